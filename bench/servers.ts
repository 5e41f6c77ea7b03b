import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

/**
 * Long-lived children of the bench: trove's server and the baseline's blob
 * server. Peak RSS of a live process is its VmHWM, read just before it is
 * stopped (exact, unlike sampling a short-lived child).
 */

/** A started server. */
export interface ServerHandle {
  url: string;
  child: ChildProcess;
  /** Output so far (for error messages). */
  log: () => string;
  /** Peak RSS in KiB (Linux /proc), null elsewhere. */
  peakRssKiB: () => number | null;
  stop: () => Promise<void>;
}

/** A port free right now on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = addr !== null && typeof addr === 'object' ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

function vmHwm(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m?.[1] === undefined ? null : Number(m[1]);
  } catch {
    return null;
  }
}

function handle(child: ChildProcess, url: string, output: string[]): ServerHandle {
  return {
    url,
    child,
    log: () => output.join('').slice(-4000),
    peakRssKiB: () => vmHwm(child.pid),
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

function collect(child: ChildProcess): string[] {
  const output: string[] = [];
  const keep = (b: Buffer): void => {
    output.push(b.toString('utf8'));
    if (output.length > 200) output.shift();
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return output;
}

/** Starts `trove serve` on a free port and waits for /healthz. */
export async function startTrove(
  bin: string,
  dataDir: string,
  env: NodeJS.ProcessEnv,
): Promise<ServerHandle> {
  const port = await freePort();
  const args = [bin, 'serve', '--data', dataDir, '--host', '127.0.0.1', '--port', String(port)];
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env } });
  const output = collect(child);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) return handle(child, url, output);
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`trove serve did not become healthy:\n${output.join('').slice(-4000)}`);
}

/** Starts the baseline blob server storing under `dir`. */
export function startBlobServer(dir: string): Promise<ServerHandle> {
  const script = fileURLToPath(new URL('./blob-server.js', import.meta.url));
  const child = spawn(process.execPath, [script, dir]);
  const output = collect(child);
  return new Promise((resolve, reject) => {
    let line = '';
    child.stdout.on('data', (b: Buffer) => {
      line += b.toString('utf8');
      const m = /\{"port":(\d+)\}/.exec(line);
      if (m !== null) resolve(handle(child, `http://127.0.0.1:${m[1]}`, output));
    });
    child.once('exit', (code) =>
      reject(new Error(`blob server exited ${code}: ${output.join('')}`)),
    );
  });
}
