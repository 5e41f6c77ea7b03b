import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { mkdir, open, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { TroveError } from '../errors.js';

/** A held data-directory lock. */
export interface DataDirLock {
  /** Removes the LOCK file if it is still ours (idempotent). */
  release(): Promise<void>;
}

/**
 * Creates the data directory 0700 (parents too) when missing. An existing
 * one is left as the operator made it (it may be a path they chose for other
 * reasons), but its group/other permission bits are returned so the caller
 * can warn: trove's own entries in it (db/, blobs/, secret, LOCK) are private
 * either way.
 */
export function prepareDataDir(dir: string): { exposedMode: number | null } {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const mode = statSync(dir).mode & 0o777;
  return { exposedMode: (mode & 0o077) !== 0 ? mode : null };
}

/** What the LOCK file records about its holder. */
interface LockInfo {
  pid: number;
  hostname: string;
  /** When the holding process started (ISO 8601). */
  startedAt: string;
  /** Random per acquisition, so a process only ever removes its own lock. */
  nonce: string;
}

// Directories locked by this process: a second server in the same process is refused too.
const held = new Set<string>();

/** Options of lockDataDir. */
export interface LockOptions {
  /**
   * How long to wait for a holder that still looks alive before refusing
   * (default 5 s): a process killed with SIGKILL keeps its pid until its
   * memory is torn down and its parent reaps it, and a supervisor restarting
   * at once would otherwise be refused by a dead server.
   */
  waitMs?: number;
}

/** Default of LockOptions.waitMs. */
export const LOCK_WAIT_MS = 5_000;
const LOCK_POLL_MS = 100;

/**
 * Locks a data directory for this process with a `LOCK` file created
 * exclusively. A lock whose holder is alive on this host is waited for (up
 * to `waitMs`), then refused with `data_dir_locked`; a lock left by a dead
 * process (gone, a zombie, or a reused pid) or by another host (e.g. a
 * previous container with the same volume) is taken over. Released by
 * `release()` and, as a last resort, on process exit.
 */
export async function lockDataDir(dir: string, options: LockOptions = {}): Promise<DataDirLock> {
  const root = resolve(dir);
  const path = join(root, 'LOCK');
  if (held.has(root)) throw locked(root, await readLock(path));
  await mkdir(root, { recursive: true, mode: 0o700 });
  const mine: LockInfo = {
    pid: process.pid,
    hostname: hostname(),
    startedAt: new Date(Date.now() - process.uptime() * 1000).toISOString(),
    nonce: randomUUID(),
  };
  const text = `${JSON.stringify(mine)}\n`;
  const deadline = Date.now() + (options.waitMs ?? LOCK_WAIT_MS);
  for (let takeovers = 0; ; ) {
    if (await createExclusive(path, text)) break;
    const holder = await readLockSettled(path);
    if (holder && isAlive(holder)) {
      if (Date.now() >= deadline) throw locked(root, holder);
      await new Promise((r) => setTimeout(r, LOCK_POLL_MS));
      continue;
    }
    if (++takeovers > 3) throw locked(root, holder);
    // Stale: replace atomically, then check we are the one who won a racing takeover.
    const tmp = `${path}.${mine.nonce}.tmp`;
    await writeFile(tmp, text, { mode: 0o600 });
    await rename(tmp, path);
    await new Promise((r) => setTimeout(r, 20));
    if ((await readLock(path))?.nonce === mine.nonce) break;
  }
  held.add(root);
  const onExit = () => {
    try {
      if (parse(readFileSync(path, 'utf8'))?.nonce === mine.nonce) unlinkSync(path);
    } catch {
      // Exiting anyway; a leftover LOCK of a dead process is taken over next time.
    }
  };
  process.on('exit', onExit);
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      process.off('exit', onExit);
      held.delete(root);
      if ((await readLock(path))?.nonce === mine.nonce) await unlink(path).catch(() => {});
    },
  };
}

async function createExclusive(path: string, text: string): Promise<boolean> {
  try {
    const fh = await open(path, 'wx', 0o600);
    try {
      await fh.writeFile(text);
      await fh.sync();
    } finally {
      await fh.close();
    }
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

function parse(text: string): LockInfo | null {
  try {
    const v = JSON.parse(text) as Partial<LockInfo>;
    if (typeof v.pid !== 'number' || typeof v.hostname !== 'string') return null;
    return {
      pid: v.pid,
      hostname: v.hostname,
      startedAt: String(v.startedAt ?? ''),
      nonce: String(v.nonce ?? ''),
    };
  } catch {
    return null;
  }
}

async function readLock(path: string): Promise<LockInfo | null> {
  try {
    return parse(await readFile(path, 'utf8'));
  } catch {
    return null;
  }
}

/** A LOCK just created by another process may still be empty: give it a moment. */
async function readLockSettled(path: string): Promise<LockInfo | null> {
  for (let i = 0; i < 10; i++) {
    const info = await readLock(path);
    if (info) return info;
    await new Promise((r) => setTimeout(r, 20));
  }
  return null;
}

/** Whether the recorded holder still runs (only checkable on this host). */
function isAlive(info: LockInfo): boolean {
  if (info.hostname !== hostname()) return false;
  // Our own pid but not in `held`: a previous incarnation (e.g. pid 1 in a restarted container).
  if (info.pid === process.pid) return false;
  try {
    process.kill(info.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return !exited(info.pid) && !pidReused(info);
}

/**
 * On Linux, a process that has exited but whose parent has not reaped it yet
 * (state Z, or X while being reaped) still answers `kill(pid, 0)`: it holds
 * nothing any more, so its lock is stale.
 */
function exited(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state === 'Z' || state === 'X';
  } catch {
    return false;
  }
}

/**
 * On Linux, a live pid that started well after the lock holder did is a
 * different process that reused the pid: the lock is stale.
 */
function pidReused(info: LockInfo): boolean {
  const recorded = Date.parse(info.startedAt);
  if (Number.isNaN(recorded)) return false;
  try {
    const stat = readFileSync(`/proc/${info.pid}/stat`, 'utf8');
    // Field 22 (starttime, in clock ticks since boot) counts from after the ")" ending the name.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[19]);
    const btime = /btime (\d+)/.exec(readFileSync('/proc/stat', 'utf8'))?.[1];
    if (!Number.isFinite(ticks) || btime === undefined) return false;
    // Linux reports starttime in USER_HZ, which is 100 on every mainstream build.
    const started = Number(btime) * 1000 + (ticks / 100) * 1000;
    return started > recorded + 5_000;
  } catch {
    return false;
  }
}

function locked(dir: string, holder: LockInfo | null): TroveError {
  const who = holder
    ? `process ${holder.pid} on ${holder.hostname} (started ${holder.startedAt})`
    : 'another process';
  return new TroveError(
    'data_dir_locked',
    `data directory ${dir} is in use by ${who}; stop it (trove serve exits on SIGTERM) or pass another --data; if that process is not a trove server (its pid was reused), delete ${join(dir, 'LOCK')}`,
    holder ? { pid: holder.pid, hostname: holder.hostname, startedAt: holder.startedAt } : {},
  );
}
