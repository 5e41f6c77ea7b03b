import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstat, mkdtemp, readdir, readFile, readlink, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { forwardChildOutput } from '../../src/testing/test-logs.js';

/** End-to-end helpers: real `trove serve` processes and the real CLI, nothing in-process. */

const BIN = resolve(import.meta.dirname, '../../bin/trove.js');

export interface ServeProcess {
  /** Base URL the server listens on. */
  url: string;
  /** Its data directory. */
  dataDir: string;
  /** The child process. */
  proc: ChildProcess;
  /** Everything it printed so far. */
  output: () => string;
  /** SIGTERM and wait for exit; returns the exit code. */
  stop: () => Promise<number | null>;
}

export async function tempDir(prefix = 'trove-e2e-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/** Options of a trove server process. */
export interface ServeOptions {
  /** Data directory (a fresh temp dir by default). */
  dataDir?: string;
  /** Port (a free one by default). */
  port?: number;
  /** More arguments after the command's own. */
  extraArgs?: string[];
  /** Extra environment (e.g. TROVE_DATABASE_URL and TROVE_S3_* for the production backends). */
  env?: Record<string, string>;
  /** `serve` (default) or `worker`. */
  command?: 'serve' | 'worker';
}

/** Starts `trove serve` (or `trove worker --port`) and waits until /healthz answers. */
export async function startServe(options: ServeOptions = {}): Promise<ServeProcess> {
  const dataDir = options.dataDir ?? (await tempDir('trove-data-'));
  const port = options.port ?? (await freePort());
  const args = [
    BIN,
    options.command ?? 'serve',
    '--data',
    dataDir,
    '--port',
    String(port),
    ...(options.extraArgs ?? []),
  ];
  // Backends come only from options.env, never from the environment the tests run in.
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => k !== 'TROVE_DATABASE_URL' && !k.startsWith('TROVE_S3_'),
    ),
  );
  const proc = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...inherited, TROVE_LOG_FORMAT: 'json', ...options.env },
  });
  forwardChildOutput(proc, `${options.command ?? 'serve'} :${port}`);
  let output = '';
  proc.stdout?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  proc.stderr?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<number | null>((res) => proc.once('exit', (code) => res(code)));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (proc.exitCode !== null)
      throw new Error(`trove ${options.command ?? 'serve'} exited early:\n${output}`);
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`trove serve did not become healthy:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    dataDir,
    proc,
    output: () => output,
    stop: async () => {
      if (proc.exitCode === null) proc.kill('SIGTERM');
      return exited;
    },
  };
}

export interface CliResult {
  /** Exit code. */
  code: number;
  /** Standard output. */
  stdout: string;
  /** Standard error. */
  stderr: string;
}

/** Runs the real CLI as a child process. */
export function runCli(
  args: string[],
  options: { server?: string; cacheDir?: string; cwd?: string; timeoutMs?: number } = {},
): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (options.server) env.TROVE_URL = options.server;
  if (options.cacheDir) env.TROVE_CACHE_DIR = options.cacheDir;
  return new Promise((res, reject) => {
    const proc = spawn(process.execPath, [BIN, ...args], {
      env,
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    forwardChildOutput(proc, `trove ${args[0] ?? ''}`);
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    proc.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    // A command that should fail fast but hangs (e.g. a second server) is killed, not waited on.
    const timer = setTimeout(() => proc.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    proc.once('error', reject);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      res({ code: code ?? -1, stdout, stderr });
    });
  });
}

/** Runs the CLI with --json, expects exit 0 and returns the parsed object. */
export async function cliJson<T = Record<string, unknown>>(
  args: string[],
  options: { server?: string; cacheDir?: string } = {},
): Promise<T> {
  const result = await runCli([...args, '--json'], options);
  if (result.code !== 0) {
    throw new Error(
      `trove ${args.join(' ')} exited ${result.code}\n${result.stdout}\n${result.stderr}`,
    );
  }
  return JSON.parse(result.stdout) as T;
}

/** A comparable description of a tree: path -> kind, exec bit, content digest or link target. */
export async function describeTree(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  async function walk(dir: string, rel: string): Promise<void> {
    for (const name of (await readdir(dir)).sort()) {
      const abs = join(dir, name);
      const path = rel ? `${rel}/${name}` : name;
      const st = await lstat(abs);
      if (st.isSymbolicLink()) out[path] = `link:${await readlink(abs)}`;
      else if (st.isDirectory()) {
        out[path] = 'dir';
        await walk(abs, path);
      } else {
        const digest = createHash('sha256')
          .update(await readFile(abs))
          .digest('hex');
        out[path] = `file:${st.mode & 0o100 ? 'x' : '-'}:${st.size}:${digest}`;
      }
    }
  }
  await walk(root, '');
  return out;
}

export async function removeAll(...paths: string[]): Promise<void> {
  await Promise.all(paths.map((p) => rm(p, { recursive: true, force: true })));
}

/** Deterministic pseudo-random bytes (xorshift), so failures reproduce. */
export function pseudoRandomBytes(size: number, seed: number): Buffer {
  const buf = Buffer.alloc(Math.ceil(size / 4) * 4);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < buf.length; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    buf.writeUInt32LE(x >>> 0, i);
  }
  return buf.subarray(0, size);
}

/** Polls `trove log --json` until the head version's archive is ready. */
export async function waitForArchive(
  storage: string,
  server: string,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const log = await cliJson<{ versions: { archives: { state: string }[] }[] }>(['log', storage], {
      server,
    });
    const head = log.versions[0];
    if (head && head.archives.length > 0 && head.archives.every((a) => a.state === 'ready')) return;
    if (head?.archives.some((a) => a.state === 'failed')) throw new Error('archive failed');
    if (Date.now() > deadline) throw new Error('archive not ready in time');
    await new Promise((r) => setTimeout(r, 250));
  }
}
