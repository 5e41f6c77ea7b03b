import { readdirSync, statSync, unlinkSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { dirname, join } from 'node:path';

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
 * Removes temp files left by puts that died with the process. Runs once at
 * construction, synchronously: the directory only ever holds in-flight uploads.
 */
export function removeStaleTempFiles(tmpDir: string, olderThanMs: number, now: number): number {
  let removed = 0;
  for (const name of readdirSync(tmpDir)) {
    const path = join(tmpDir, name);
    try {
      const st = statSync(path);
      if (st.isFile() && now - st.mtimeMs > olderThanMs) {
        unlinkSync(path);
        removed += 1;
      }
    } catch (err) {
      if (!isMissing(err)) throw err;
    }
  }
  return removed;
}
