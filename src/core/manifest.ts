import { TroveError } from '../errors.js';
import { CHUNKER_ID } from './chunker-params.js';
import { sha256Hex } from './digest.js';
import { LineSplitter } from './line-splitter.js';
import {
  entryFromJson,
  entryLine,
  entryProblem,
  headerFromJson,
  headerLine,
  type ManifestHeaderLine,
  manifestError,
} from './manifest-line.js';
import { comparePaths, parentPath } from './paths.js';
import type { Digest, ManifestEntry } from './types.js';

export type { ManifestHeaderLine } from './manifest-line.js';

/** Longest manifest line in bytes (about 850k chunk refs, a file of ~50 GiB). */
export const MAX_MANIFEST_LINE_BYTES = 64 * 1024 * 1024;
/** Most entries one manifest may hold. */
export const MAX_MANIFEST_ENTRIES = 10_000_000;

/** Checks one entry against the previous path and the directories seen so far. */
function checkPosition(e: ManifestEntry, prev: string | null, dirs: Set<string>): void {
  if (prev !== null && comparePaths(prev, e.path) >= 0) {
    throw manifestError(
      comparePaths(prev, e.path) === 0
        ? `duplicate path ${JSON.stringify(e.path)}`
        : `path ${JSON.stringify(e.path)} is not sorted after ${JSON.stringify(prev)}`,
      { path: e.path },
    );
  }
  const parent = parentPath(e.path);
  if (parent !== null && !dirs.has(parent)) {
    throw manifestError(`parent directory of ${JSON.stringify(e.path)} is not listed before it`, {
      path: e.path,
    });
  }
}

/**
 * Builds the canonical manifest of a tree. The input may be in any order; it
 * is sorted by UTF-8 path bytes and fully validated (the same rules the
 * decoder enforces), so every manifest this returns decodes.
 */
export function encodeManifest(entries: readonly ManifestEntry[]): {
  bytes: Buffer;
  id: Digest;
  header: ManifestHeaderLine;
} {
  if (entries.length > MAX_MANIFEST_ENTRIES)
    throw manifestError(`more than ${MAX_MANIFEST_ENTRIES} entries`);
  const sorted = [...entries].sort((a, b) => comparePaths(a.path, b.path));
  const header: ManifestHeaderLine = {
    chunker: CHUNKER_ID,
    entries: sorted.length,
    files: 0,
    size: 0,
    chunkRefs: 0,
  };
  const lines: string[] = [];
  const dirs = new Set<string>();
  let prev: string | null = null;
  for (const e of sorted) {
    const problem = entryProblem(e);
    if (problem !== null) throw manifestError(problem, { path: e.path });
    checkPosition(e, prev, dirs);
    prev = e.path;
    if (e.type === 'dir') dirs.add(e.path);
    if (e.type === 'file') {
      header.files++;
      header.size += e.size;
      header.chunkRefs += e.chunks.length;
    }
    const line = entryLine(e);
    if (Buffer.byteLength(line) + 1 > MAX_MANIFEST_LINE_BYTES)
      throw manifestError(`entry ${JSON.stringify(e.path)} is too large`, { path: e.path });
    lines.push(line);
  }
  if (!Number.isSafeInteger(header.size)) throw manifestError('total size is too large');
  lines.unshift(headerLine(header));
  const bytes = Buffer.from(`${lines.join('\n')}\n`, 'utf8');
  return { bytes, id: sha256Hex(bytes), header };
}

/**
 * Streaming decoder that accepts only canonical manifests. Feed bytes in any
 * slices with push(); it returns the entries completed so far. Memory holds
 * one partial line plus the set of directory paths (needed for the parent
 * check), never the whole manifest.
 */
export class ManifestDecoder {
  /** The header, available once the first line has been pushed. */
  header: ManifestHeaderLine | null = null;
  private readonly lines = new LineSplitter(MAX_MANIFEST_LINE_BYTES);
  private lineNo = 0;
  private prev: string | null = null;
  private readonly dirs = new Set<string>();
  private count = { entries: 0, files: 0, size: 0, chunkRefs: 0 };
  private ended = false;

  /** Consumes bytes; returns the entries whose lines are now complete. Throws invalid_manifest. */
  push(chunk: Uint8Array): ManifestEntry[] {
    if (this.ended) throw manifestError('data pushed after end');
    const out: ManifestEntry[] = [];
    this.lines.push(
      chunk,
      (line) => {
        const r = this.line(line);
        if (r !== null) out.push(r);
      },
      () => this.fail(`line longer than ${MAX_MANIFEST_LINE_BYTES} bytes`, this.lineNo + 1),
    );
    return out;
  }

  /** Declares the input complete; throws unless everything announced by the header was seen. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.lines.hasPartialLine) throw this.fail('last line has no newline', this.lineNo + 1);
    const h = this.header;
    if (h === null) throw manifestError('empty manifest: no header line');
    const c = this.count;
    if (c.entries !== h.entries || c.files !== h.files || c.size !== h.size)
      throw manifestError(
        `header announces ${h.entries} entries, ${h.files} files, ${h.size} bytes; found ${c.entries}, ${c.files}, ${c.size}`,
      );
    if (c.chunkRefs !== h.chunkRefs)
      throw manifestError(`header announces ${h.chunkRefs} chunk refs; found ${c.chunkRefs}`);
  }

  private fail(message: string, line: number, cause?: unknown): TroveError {
    const details = cause instanceof TroveError ? cause.details : undefined;
    return new TroveError('invalid_manifest', `manifest line ${line}: ${message}`, {
      ...details,
      line,
    });
  }

  private line(bytes: Buffer): ManifestEntry | null {
    const n = ++this.lineNo;
    try {
      const text = bytes.toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw manifestError('not valid JSON');
      }
      if (this.header === null) {
        const h = headerFromJson(json);
        if (headerLine(h) !== text) throw manifestError('header is not in canonical form');
        if (h.chunker !== CHUNKER_ID) throw manifestError(`unsupported chunker ${h.chunker}`);
        if (h.entries > MAX_MANIFEST_ENTRIES)
          throw manifestError(`more than ${MAX_MANIFEST_ENTRIES} entries`);
        this.header = h;
        return null;
      }
      if (this.count.entries >= this.header.entries)
        throw manifestError('more entries than the header announces');
      const e = entryFromJson(json);
      const problem = entryProblem(e);
      if (problem !== null) throw manifestError(problem);
      const canonical = entryLine(e);
      // Invalid UTF-8 decodes to U+FFFD and would round-trip as a string, so such lines are compared as bytes.
      if (
        canonical !== text ||
        (text.includes('\ufffd') && !Buffer.from(canonical, 'utf8').equals(bytes))
      )
        throw manifestError('entry is not in canonical form');
      checkPosition(e, this.prev, this.dirs);
      this.prev = e.path;
      this.count.entries++;
      if (e.type === 'dir') this.dirs.add(e.path);
      if (e.type === 'file') {
        this.count.files++;
        this.count.size += e.size;
        this.count.chunkRefs += e.chunks.length;
        if (this.count.size > this.header.size) throw manifestError('files exceed the header size');
      }
      return e;
    } catch (err) {
      if (err instanceof TroveError) throw this.fail(err.message, n, err);
      throw this.fail(String(err), n);
    }
  }
}

/** Decodes a whole canonical manifest held in memory. Throws invalid_manifest. */
export function decodeManifest(bytes: Uint8Array): {
  header: ManifestHeaderLine;
  entries: ManifestEntry[];
} {
  const d = new ManifestDecoder();
  const entries = d.push(bytes);
  d.end();
  return { header: d.header!, entries };
}
