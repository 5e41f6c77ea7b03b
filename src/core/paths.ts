import { TroveError } from '../errors.js';

/** Longest entry path in UTF-8 bytes (PATH_MAX on Linux). */
export const MAX_PATH_BYTES = 4096;
/** Longest single path segment in UTF-8 bytes (NAME_MAX). */
export const MAX_SEGMENT_BYTES = 255;

/** True when the string has no unpaired UTF-16 surrogate (so UTF-8 encoding is lossless). */
export function isWellFormedUnicode(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c >= 0xdc00) return false;
    const next = s.charCodeAt(i + 1);
    if (!(next >= 0xdc00 && next <= 0xdfff)) return false;
    i++;
  }
  return true;
}

/** Maps a UTF-16 code unit so that code-unit order equals code-point (and so UTF-8 byte) order. */
function rank(c: number): number {
  if (c >= 0xe000) return c - 0x800;
  if (c >= 0xd800) return c + 0x2000;
  return c;
}

/**
 * Orders paths by their UTF-8 bytes, like Buffer.compare of the encodings,
 * without encoding them: JS string order differs from byte order only where
 * a surrogate pair meets a BMP character at or above U+E000.
 */
export function comparePaths(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return rank(x) - rank(y);
  }
  return a.length - b.length;
}

function invalid(path: string, why: string): TroveError {
  return new TroveError('invalid_manifest', `invalid entry path ${JSON.stringify(path)}: ${why}`, {
    path,
  });
}

/**
 * Returns why the path is not a valid entry path, or null when it is valid.
 * Backslashes are legal POSIX file name characters and are kept.
 */
export function entryPathProblem(path: string): string | null {
  if (typeof path !== 'string' || path.length === 0) return 'empty path';
  if (!isWellFormedUnicode(path)) return 'not valid Unicode';
  if (path.includes('\0')) return 'contains NUL';
  if (Buffer.byteLength(path, 'utf8') > MAX_PATH_BYTES)
    return `longer than ${MAX_PATH_BYTES} bytes`;
  for (const seg of path.split('/')) {
    if (seg === '') return 'empty segment or leading/trailing slash';
    if (seg === '.' || seg === '..') return `'${seg}' segment`;
    if (seg.length > MAX_SEGMENT_BYTES / 3 && Buffer.byteLength(seg, 'utf8') > MAX_SEGMENT_BYTES)
      return `segment longer than ${MAX_SEGMENT_BYTES} bytes`;
  }
  return null;
}

/** Throws TroveError('invalid_manifest') unless the path is a canonical relative POSIX path. */
export function validateEntryPath(path: string): void {
  const problem = entryPathProblem(path);
  if (problem !== null) throw invalid(path, problem);
}

/** The parent directory of an entry path, or null for a top-level entry. */
export function parentPath(path: string): string | null {
  const i = path.lastIndexOf('/');
  return i < 0 ? null : path.slice(0, i);
}

/**
 * False for an absolute target, an empty one, or one that, resolved lexically
 * against the link's directory, leaves the tree root at any step. Checking
 * every step (not just the end) also refuses `../root/x` style detours that
 * only look harmless after normalisation. It is lexical, so it is necessary
 * but NOT sufficient on its own: a chain such as `a -> .` then `c -> a/..`
 * passes here yet escapes, because `a/..` steps back over a symlink. Callers
 * that create links must also refuse a `..` that crosses a symlink they made
 * (see SafeTree in src/client/pull/safe-tree.ts) and never follow one.
 */
export function isSafeSymlink(linkPath: string, target: string): boolean {
  if (target.length === 0 || target.startsWith('/') || target.includes('\0')) return false;
  let depth = linkPath.split('/').length - 1;
  for (const seg of target.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      depth--;
      if (depth < 0) return false;
    } else {
      depth++;
    }
  }
  return true;
}
