import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** A running s3rver process and how to reach it. */
export interface RunningS3rver {
  /** Base URL, e.g. http://127.0.0.1:41234 (use path-style addressing). */
  endpoint: string;
  /** The bucket created at start. */
  bucket: string;
  /** Region to sign for (s3rver accepts any). */
  region: string;
  /** s3rver's built-in access key id. */
  accessKeyId: string;
  /** s3rver's built-in secret access key. */
  secretAccessKey: string;
  /** s3rver's data directory: objects live at `<dir>/<bucket>/<key>._S3rver_object`. */
  dir: string;
  /** Kills the process and removes its directory. Safe to call twice. */
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 5_000;
const LISTENING = /S3rver listening on (\S+):(\d+)/;

function s3rverBin(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('s3rver/package.json')), 'bin', 's3rver.js');
}

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/**
 * Starts s3rver as a separate process (so a test's event loop, or a spawned
 * `trove serve`, talks to it over real HTTP) on a free port of 127.0.0.1 with
 * a fresh temp directory and one bucket. `--openssl-legacy-provider` is needed
 * because s3rver's ListObjectsV2 continuation tokens use a cipher that
 * OpenSSL 3 only offers through the legacy provider.
 */
export async function startS3rver(options: { bucket?: string } = {}): Promise<RunningS3rver> {
  const bucket = options.bucket ?? 'trove-test';
  const dir = await mkdtemp(join(tmpdir(), 'trove-s3rver-'));
  const child = spawn(
    process.execPath,
    [
      '--openssl-legacy-provider',
      s3rverBin(),
      '--directory',
      dir,
      '--address',
      '127.0.0.1',
      '--port',
      '0',
      '--silent',
      '--configure-bucket',
      bucket,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  // A test runner that dies must not leave s3rver behind.
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    process.off('exit', killOnExit);
    child.kill('SIGTERM');
    if (!(await waitForExit(child, STOP_TIMEOUT_MS))) {
      child.kill('SIGKILL');
      await waitForExit(child, STOP_TIMEOUT_MS);
    }
    await rm(dir, { recursive: true, force: true });
  };

  try {
    const port = await new Promise<number>((resolve, reject) => {
      let output = '';
      const timer = setTimeout(
        () => reject(new Error(`s3rver did not start within ${START_TIMEOUT_MS} ms: ${output}`)),
        START_TIMEOUT_MS,
      );
      const onData = (data: Buffer): void => {
        output += data.toString();
        const match = LISTENING.exec(output);
        if (match?.[2]) {
          clearTimeout(timer);
          resolve(Number(match[2]));
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`s3rver exited (${code ?? signal}) before listening: ${output}`));
      });
    });
    // Keep draining so a chatty child never blocks on a full pipe.
    child.stdout?.resume();
    child.stderr?.resume();
    const endpoint = `http://127.0.0.1:${port}`;
    const res = await fetch(`${endpoint}/${bucket}?list-type=2&max-keys=1`);
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`s3rver bucket ${bucket} not ready: ${res.status}`);
    return {
      endpoint,
      bucket,
      region: 'us-east-1',
      accessKeyId: 'S3RVER',
      secretAccessKey: 'S3RVER',
      dir,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The TROVE_S3_* environment that points a trove process at this server. */
export function troveS3Env(s3: RunningS3rver): Record<string, string> {
  return {
    TROVE_S3_BUCKET: s3.bucket,
    TROVE_S3_ENDPOINT: s3.endpoint,
    TROVE_S3_REGION: s3.region,
    TROVE_S3_FORCE_PATH_STYLE: 'true',
    TROVE_S3_ACCESS_KEY_ID: s3.accessKeyId,
    TROVE_S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
  };
}
