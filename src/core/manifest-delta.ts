import { Readable } from 'node:stream';
import { CHUNKER_ID } from './chunker-params.js';
import { MAX_MANIFEST_ENTRIES, type ManifestHeaderLine } from './manifest.js';
import { entryLine, manifestError } from './manifest-line.js';
import type { RawEntryLine } from './manifest-raw.js';
import { comparePaths } from './paths.js';
import type { Digest, ManifestEntry } from './types.js';
import { createZstdCompressStream } from './zstd-stream.js';

/**
 * Manifest delta: the entries of a new manifest that are not byte-identical
 * in a base manifest, plus the base paths it drops, in one path-sorted list.
 * The server merges it with the stored base into the new canonical manifest
 * (manifest-delta-merge.ts), so what is stored never depends on how it was
 * uploaded. Format: docs/formats.md, "Manifest delta".
 */

/** Most change lines one delta may hold (a delta that large is never smaller than its manifest). */
export const MAX_DELTA_CHANGES = MAX_MANIFEST_ENTRIES;

/** First line of a delta: the base it applies to and the new manifest's header numbers. */
export interface DeltaHeader extends ManifestHeaderLine {
  /** Version id of the base manifest. */
  base: Digest;
  /** Number of change lines that follow. */
  changes: number;
}

/** One change line: a new or replaced entry (`entry` set), or a removed base path. */
export interface DeltaRecord {
  /** Path the change applies to. */
  path: string;
  /** The new entry, or null when the base entry at `path` is removed. */
  entry: ManifestEntry | null;
  /** The canonical line (without newline): the manifest entry line, or the removal line. */
  line: string;
}

/** The canonical header line, without its trailing newline. */
export function deltaHeaderLine(h: DeltaHeader): string {
  return JSON.stringify({
    trove: 'manifest-delta',
    v: 1,
    base: h.base,
    chunker: h.chunker,
    entries: h.entries,
    files: h.files,
    size: h.size,
    chunkRefs: h.chunkRefs,
    changes: h.changes,
  });
}

/** The canonical removal line of a path, without its trailing newline. */
export function removalLine(path: string): string {
  return `{"p":${JSON.stringify(path)},"t":"-"}`;
}

/** What one step of the delta walk does: the change line to emit, and which sides move on. */
export interface DeltaStep {
  /** A change line, or null when the entries are identical. */
  line: string | null;
  /** Advance the base side. */
  base: boolean;
  /** Advance the next side. */
  next: boolean;
}

/**
 * One step of the merge-join by path that every delta producer runs (the
 * push's delta, the server's answer to a pull), over the current entry line
 * of each side (undefined once that side is exhausted): an entry is sent iff
 * its line differs, a base path the next manifest lacks becomes a removal
 * line. So all of them produce the unique minimal delta.
 */
export function deltaStep(b: RawEntryLine | undefined, n: RawEntryLine | undefined): DeltaStep {
  const order = b === undefined ? 1 : n === undefined ? -1 : comparePaths(b.path, n.path);
  if (order < 0 && b !== undefined) return { line: removalLine(b.path), base: true, next: false };
  if (order > 0 && n !== undefined) return { line: n.line, base: false, next: true };
  // The same path on both sides (the caller never passes two exhausted sides).
  const line = n?.line ?? null;
  return { line: line === b?.line ? null : line, base: true, next: true };
}

/** The delta text: header line (with the change count) and change lines. */
export function deltaText(baseId: Digest, header: ManifestHeaderLine, changes: string[]): Buffer {
  if (changes.length > MAX_DELTA_CHANGES)
    throw manifestError(`more than ${MAX_DELTA_CHANGES} changes`);
  const head = deltaHeaderLine({ ...header, base: baseId, changes: changes.length });
  return Buffer.from(`${[head, ...changes].join('\n')}\n`, 'utf8');
}

/**
 * Encodes the delta that turns `base` into `next`. Both lists must be
 * canonical manifests' entries (sorted, unique; e.g. from decodeManifest or
 * encodeManifest's input sorted with comparePaths); `header` is next's header.
 */
export function encodeManifestDelta(
  baseId: Digest,
  base: readonly ManifestEntry[],
  next: readonly ManifestEntry[],
  header: ManifestHeaderLine,
): Buffer {
  const raw = (e: ManifestEntry): RawEntryLine => ({ path: e.path, line: entryLine(e) });
  return encodeManifestDeltaLines(baseId, base.map(raw), next.map(raw), header);
}

/**
 * encodeManifestDelta on entry lines as stored (rawEntryLines of two
 * canonical manifests), so neither manifest is decoded: the cost is a
 * string comparison per entry.
 */
export function encodeManifestDeltaLines(
  baseId: Digest,
  base: readonly RawEntryLine[],
  next: readonly RawEntryLine[],
  header: ManifestHeaderLine,
): Buffer {
  if (header.chunker !== CHUNKER_ID) throw manifestError(`unsupported chunker ${header.chunker}`);
  const changes: string[] = [];
  let i = 0;
  let j = 0;
  while (i < base.length || j < next.length) {
    const step = deltaStep(base[i], next[j]);
    if (step.line !== null) changes.push(step.line);
    if (step.base) i++;
    if (step.next) j++;
  }
  return deltaText(baseId, header, changes);
}

/**
 * The delta as stored: zstd frames (the archive framing, so the server's
 * bounded frame-by-frame decoder reads it). Digests are hex, so this about
 * halves a delta (docs/formats.md has the measurement).
 */
export async function compressManifestDelta(delta: Buffer): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of Readable.from([delta]).pipe(createZstdCompressStream()))
    parts.push(part as Buffer);
  return Buffer.concat(parts);
}
