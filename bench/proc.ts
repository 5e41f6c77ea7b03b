import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

/**
 * Runs a child, timing it and measuring its peak RSS: node children through
 * the rss-preload hook, other tools through GNU time when installed (else
 * "n/a" — a missing tool must never fail the bench).
 */

/** Outcome of one measured child. */
export interface Measured {
  ms: number;
  code: number;
  stdout: string;
  stderr: string;
  /** Peak resident set in KiB, or null when it could not be measured. */
  rssKiB: number | null;
  /** User + system CPU time in ms (children included), or null when unmeasured. */
  cpuMs: number | null;
}

const GNU_TIME = '/usr/bin/time';
const preload = fileURLToPath(new URL('./rss-preload.js', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'trove-bench-rss-'));
let seq = 0;

/** True when GNU time is available for non-node tools. */
export const hasGnuTime: boolean = existsSync(GNU_TIME);

/** Options of `measure`. */
export interface MeasureOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Piped into the child's stdin (e.g. an HTTP response into tar). */
  stdin?: Readable;
  /** Run as `node --import rss-preload file args`. */
  node?: boolean;
}

/** Runs `cmd args` to completion; rejects only if it cannot be started. */
export function measure(cmd: string, args: string[], opts: MeasureOptions = {}): Promise<Measured> {
  const rssFile = join(scratch, `rss-${process.pid}-${seq++}`);
  let file = cmd;
  let argv = args;
  const env = { ...process.env, ...opts.env };
  if (opts.node === true) {
    file = process.execPath;
    argv = ['--import', preload, cmd, ...args];
    env.TROVE_BENCH_RSS_FILE = rssFile;
  } else if (hasGnuTime) {
    file = GNU_TIME;
    // Same line shape as rss-preload: KiB, then user and system CPU (here in seconds).
    argv = ['-f', '%M %U %S', '-o', rssFile, cmd, ...args];
  }
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(file, argv, {
      env,
      cwd: opts.cwd,
      stdio: [opts.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => err.push(b));
    if (opts.stdin !== undefined && child.stdin !== null) {
      opts.stdin.on('error', (e) => child.stdin?.destroy(e));
      child.stdin.on('error', () => {}); // tar exiting early surfaces through its exit code
      opts.stdin.pipe(child.stdin);
    }
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - start;
      let rssKiB: number | null = null;
      let cpuMs: number | null = null;
      try {
        // GNU time prefixes a status line when the command fails: the numbers are on the last.
        const last = readFileSync(rssFile, 'utf8').trim().split('\n').pop() ?? '';
        const [rss, user, sys] = last.split(' ').map(Number);
        if (rss !== undefined && Number.isFinite(rss)) rssKiB = rss;
        if (user !== undefined && sys !== undefined && Number.isFinite(user + sys)) {
          cpuMs = opts.node === true ? user + sys : (user + sys) * 1000;
        }
        rmSync(rssFile, { force: true });
      } catch {
        rssKiB = null;
      }
      resolve({
        ms,
        code: code ?? -1,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        rssKiB,
        cpuMs,
      });
    });
  });
}

/** Throws with the child's stderr when it failed. */
export function check(what: string, m: Measured): Measured {
  if (m.code !== 0) throw new Error(`${what} exited ${m.code}: ${m.stderr.trim().slice(-2000)}`);
  return m;
}

/** Removes the scratch directory (call once at the end). */
export function cleanupScratch(): void {
  rmSync(scratch, { recursive: true, force: true });
}
