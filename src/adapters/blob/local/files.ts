import { chmodSync, mkdirSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** Mode of every directory the store creates: only the server's user may list or enter it. */
export const PRIVATE_DIR_MODE = 0o700;
/** Mode of every file the store creates (objects, temp files, archives). */
export const PRIVATE_FILE_MODE = 0o600;

/**
 * Creates `dir` (and missing parents) 0700, and takes group and other bits
 * off an existing one: the directories the store owns hold every tenant's
 * data, and an older trove (or a umask of 0) may have left them open.
 */
export function ensurePrivateDirSync(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  const mode = statSync(dir).mode & 0o777;
  if ((mode & 0o077) !== 0) chmodSync(dir, mode & PRIVATE_DIR_MODE);
}

/** Errno codes meaning "there is no file at this path". */
const MISSING = new Set(['ENOENT', 'ENOTDIR']);

/** True when a filesystem error says the path (or one of its parents) does not exist. */
export function isMissing(err: unknown): boolean {
  return MISSING.has((err as NodeJS.ErrnoException | null)?.code ?? '');
}

/** The errno code of a filesystem error, or undefined. */
export function errnoOf(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | null)?.code;
}

/** FileHandle.write may write less than asked; loop until the buffer is out. */
export async function writeFully(fh: FileHandle, buf: Buffer): Promise<void> {
  let offset = 0;
  while (offset < buf.length) {
    const { bytesWritten } = await fh.write(buf, offset, buf.length - offset);
    offset += bytesWritten;
  }
}

/**
 * Makes a rename (or a mkdir) durable: the new entry lives in the directory,
 * so the directory itself must be flushed. Platforms that cannot fsync a
 * directory (Windows) report EISDIR/EPERM/EINVAL; there is nothing more to do.
 */
export async function fsyncDir(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch (err) {
    const code = errnoOf(err);
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL' && code !== 'EBADF') throw err;
  } finally {
    await fh?.close();
  }
}

/**
 * Flushes `dir` and, when `firstCreated` (what `mkdir -p` returned) is set,
 * every directory whose entry that mkdir added, up to the pre-existing parent.
 */
export async function fsyncNewDirs(dir: string, firstCreated: string | undefined): Promise<void> {
  await fsyncDir(dir);
  if (firstCreated === undefined) return;
  let current = dir;
  while (current !== firstCreated && current.length > firstCreated.length) {
    current = dirname(current);
    await fsyncDir(current);
  }
  await fsyncDir(dirname(firstCreated));
}

/**
 * Removes temp files left by puts that died with their process: those whose
 * last write is older than `olderThanMs` (0: all of them), except the ones
 * `inFlight` names (this process's puts still streaming). Synchronous and
 * bounded by the number of temp files, which only ever holds in-flight
 * uploads and leftovers.
 */
export function removeStaleTempFiles(
  tmpDir: string,
  olderThanMs: number,
  now: number,
  inFlight: ReadonlySet<string> = new Set(),
): number {
  let removed = 0;
  for (const name of readdirSync(tmpDir)) {
    if (inFlight.has(name)) continue;
    const path = join(tmpDir, name);
    try {
      const st = statSync(path);
      if (st.isFile() && now - st.mtimeMs >= olderThanMs) {
        unlinkSync(path);
        removed += 1;
      }
    } catch (err) {
      if (!isMissing(err)) throw err;
    }
  }
  return removed;
}
