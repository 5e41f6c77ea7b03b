import { randomBytes } from 'node:crypto';
import { lstat, mkdir, opendir, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { TroveError } from '../../errors.js';

/**
 * Replacing the target. A pull builds the new tree in a sibling temp dir
 * (same filesystem, so rename is atomic) and swaps it in:
 *
 * - target absent, or an empty dir: one rename(temp, target). Atomic (Linux
 *   renames a directory over an empty one in one step).
 * - target non-empty: rename(target, old) then rename(temp, target), then the
 *   old tree is removed. These are two steps, not one: a crash between them
 *   leaves no target and the previous tree intact under
 *   `.<name>.trove-old-<pid>-<random>`. The next pull (`recoverTarget`) puts
 *   it back before doing anything else; a crash after the second rename only
 *   leaves the old dir to delete. A failure of the second rename rolls back.
 *
 * Sibling names carry the pid of the pull that made them, so recovery never
 * touches the work of a pull that is still running.
 */

/** What the target path holds before a pull. */
export type TargetState = 'absent' | 'empty' | 'nonempty';

/** A sibling path of the target: `<parent>/.<name>.trove-<kind>-<pid>-<random>`. */
export function siblingPath(target: string, kind: 'tmp' | 'old'): string {
  const abs = resolve(target);
  const rand = randomBytes(6).toString('hex');
  return join(dirname(abs), `.${basename(abs)}.trove-${kind}-${process.pid}-${rand}`);
}

/** Creates a fresh, empty temp dir beside the target (creating the target's parent if needed). */
export async function makeTempDir(target: string): Promise<string> {
  const path = siblingPath(target, 'tmp');
  await mkdir(dirname(path), { recursive: true });
  await mkdir(path, { mode: 0o755 });
  return path;
}

/** Classifies the target; refuses a file, a symlink or anything else that is not a directory. */
export async function targetState(target: string): Promise<TargetState> {
  let st: Awaited<ReturnType<typeof lstat>>;
  try {
    st = await lstat(target);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
    throw err;
  }
  if (!st.isDirectory())
    throw new TroveError(
      'target_conflict',
      `${target} exists and is not a directory (${st.isSymbolicLink() ? 'a symlink' : 'a file'}); refusing to replace it`,
      { target },
    );
  // One entry is enough to know; a huge directory is not listed in full.
  const dir = await opendir(target);
  try {
    return (await dir.read()) === null ? 'empty' : 'nonempty';
  } finally {
    await dir.close();
  }
}

/**
 * Cleans up after a pull that crashed: restores the previous tree if the
 * crash left no target, and removes stale temp and old dirs. Leaves alone
 * anything made by a process that is still alive.
 */
export async function recoverTarget(
  target: string,
): Promise<{ restored: boolean; removed: number }> {
  const abs = resolve(target);
  const parent = dirname(abs);
  const prefix = `.${basename(abs)}.trove-`;
  let names: string[];
  try {
    names = await readdir(parent);
  } catch {
    return { restored: false, removed: 0 };
  }
  const stale: { path: string; kind: string; mtimeMs: number }[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const m = /^(tmp|old)-(\d+)-[0-9a-f]+$/.exec(name.slice(prefix.length));
    if (!m || isAlive(Number(m[2]))) continue;
    const st = await stat(join(parent, name)).catch(() => null);
    if (st) stale.push({ path: join(parent, name), kind: m[1]!, mtimeMs: st.mtimeMs });
  }
  let restored = false;
  const olds = stale.filter((s) => s.kind === 'old').sort((a, b) => b.mtimeMs - a.mtimeMs);
  const newest = olds[0];
  if (newest && (await targetState(abs).catch(() => 'nonempty')) === 'absent') {
    await rename(newest.path, abs);
    restored = true;
  }
  let removed = 0;
  for (const s of stale) {
    if (restored && s === newest) continue;
    await rm(s.path, { recursive: true, force: true });
    removed++;
  }
  return { restored, removed };
}

/**
 * Moves the finished temp tree to the target (see the module comment for
 * the steps and what a crash leaves). `state` is what targetState returned.
 */
export async function swapIn(temp: string, target: string, state: TargetState): Promise<void> {
  const abs = resolve(target);
  if (state !== 'nonempty') {
    try {
      await rename(temp, abs);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // Someone filled or replaced the target while we were building (another pull?).
      if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'ENOTDIR')
        throw new TroveError(
          'target_conflict',
          `${abs} changed during the pull; nothing was replaced`,
          {
            target: abs,
          },
        );
      throw err;
    }
    return;
  }
  const old = siblingPath(abs, 'old');
  await rename(abs, old);
  try {
    await rename(temp, abs);
  } catch (err) {
    await rename(old, abs);
    throw err;
  }
  // The new tree is in place; a failed cleanup is finished by the next pull's recoverTarget.
  await rm(old, { recursive: true, force: true }).catch(() => undefined);
}

/** True when a process with this pid exists (EPERM means it exists but is not ours). */
function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
