import { TroveError } from '../errors.js';
import { MAX_CHUNK_SIZE } from './chunker-params.js';
import { isDigest } from './digest.js';
import { entryPathProblem, isWellFormedUnicode, MAX_PATH_BYTES } from './paths.js';
import type { ChunkRef, ManifestEntry, ManifestHeader } from './types.js';

/** Header of a manifest as written on its first line. */
export interface ManifestHeaderLine extends ManifestHeader {
  /** The chunker id the file chunks were cut with. */
  chunker: string;
}

/** Thrown for the first problem found; the decoder adds the line number. */
export function manifestError(message: string, details?: Record<string, unknown>): TroveError {
  return new TroveError('invalid_manifest', message, details);
}

function isSize(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

/** Checks an entry's content (not its position); returns a message or null. */
export function entryProblem(e: ManifestEntry): string | null {
  const p = entryPathProblem(e.path);
  if (p !== null) return `invalid entry path ${JSON.stringify(e.path)}: ${p}`;
  if (e.type === 'dir') return null;
  if (e.type === 'symlink') {
    const t = e.target;
    if (typeof t !== 'string' || t.length === 0) return 'symlink target is empty';
    if (t.includes('\0')) return 'symlink target contains NUL';
    if (!isWellFormedUnicode(t)) return 'symlink target is not valid Unicode';
    if (Buffer.byteLength(t, 'utf8') > MAX_PATH_BYTES) return 'symlink target too long';
    return null;
  }
  if (e.type !== 'file')
    return `unknown entry type ${JSON.stringify((e as { type: unknown }).type)}`;
  if (typeof e.executable !== 'boolean') return 'executable must be a boolean';
  if (!isSize(e.size)) return `invalid file size ${String(e.size)}`;
  if (!Array.isArray(e.chunks)) return 'chunks must be a list';
  let sum = 0;
  for (const c of e.chunks) {
    if (!isDigest(c.digest)) return `invalid chunk digest ${JSON.stringify(c.digest)}`;
    if (!isSize(c.size) || c.size === 0 || c.size > MAX_CHUNK_SIZE)
      return `invalid chunk size ${String(c.size)} (1..${MAX_CHUNK_SIZE})`;
    sum += c.size;
  }
  if (sum !== e.size) return `file size ${e.size} differs from the sum of its chunks ${sum}`;
  return null;
}

/**
 * The canonical line of a validated entry, without its trailing newline.
 * Byte-identical to JSON.stringify of `{p, t, x, s, c}` built in that key
 * order (the format's definition, checked by a test), but assembled by hand
 * because it is the hot path of encoding and decoding: digests are hex and
 * sizes are safe integers, so only strings need JSON escaping.
 */
export function entryLine(e: ManifestEntry): string {
  const p = JSON.stringify(e.path);
  switch (e.type) {
    case 'file': {
      let c = '';
      for (const ch of e.chunks) c += `${c === '' ? '' : ','}["${ch.digest}",${ch.size}]`;
      return `{"p":${p},"t":"f","x":${e.executable ? 1 : 0},"s":${e.size},"c":[${c}]}`;
    }
    case 'dir':
      return `{"p":${p},"t":"d"}`;
    case 'symlink':
      return `{"p":${p},"t":"l","l":${JSON.stringify(e.target)}}`;
  }
}

/** The canonical header line, without its trailing newline. */
export function headerLine(h: ManifestHeaderLine): string {
  return JSON.stringify({
    trove: 'manifest',
    v: 1,
    chunker: h.chunker,
    entries: h.entries,
    files: h.files,
    size: h.size,
    chunkRefs: h.chunkRefs,
  });
}

type Json = Record<string, unknown>;

function asObject(v: unknown): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw manifestError('not an object');
  return v as Json;
}

/**
 * Turns a parsed line into an entry, trusting nothing. Shape errors throw;
 * the caller then re-encodes and compares bytes, which catches key order,
 * extra keys, whitespace and non-canonical number or string spellings.
 */
export function entryFromJson(v: unknown): ManifestEntry {
  const o = asObject(v);
  const path = o.p;
  if (typeof path !== 'string') throw manifestError('"p" must be a string');
  switch (o.t) {
    case 'd':
      return { path, type: 'dir' };
    case 'l':
      if (typeof o.l !== 'string') throw manifestError('"l" must be a string');
      return { path, type: 'symlink', target: o.l };
    case 'f': {
      if (o.x !== 0 && o.x !== 1) throw manifestError('"x" must be 0 or 1');
      if (!Array.isArray(o.c)) throw manifestError('"c" must be a list');
      const chunks: ChunkRef[] = [];
      for (const c of o.c as unknown[]) {
        if (!Array.isArray(c) || c.length !== 2)
          throw manifestError('a chunk must be [digest, size]');
        chunks.push({ digest: c[0] as string, size: c[1] as number });
      }
      return { path, type: 'file', executable: o.x === 1, size: o.s as number, chunks };
    }
    default:
      throw manifestError(`unknown entry type ${JSON.stringify(o.t)}`);
  }
}

/** Parses the header line's object; the caller re-encodes and compares bytes. */
export function headerFromJson(v: unknown): ManifestHeaderLine {
  const o = asObject(v);
  if (o.trove !== 'manifest') throw manifestError('not a trove manifest');
  if (o.v !== 1) throw manifestError(`unsupported manifest version ${JSON.stringify(o.v)}`);
  if (typeof o.chunker !== 'string') throw manifestError('"chunker" must be a string');
  const h = {
    chunker: o.chunker,
    entries: o.entries,
    files: o.files,
    size: o.size,
    chunkRefs: o.chunkRefs,
  };
  for (const k of ['entries', 'files', 'size', 'chunkRefs'] as const) {
    if (!isSize(h[k])) throw manifestError(`header "${k}" must be a non-negative integer`);
  }
  return h as ManifestHeaderLine;
}
