import type { DeltaHeader, DeltaRecord } from './manifest-delta.js';
import { ManifestDeltaDecoder } from './manifest-delta-decode.js';
import { headerLine, manifestError } from './manifest-line.js';
import { decodeStream, type RawEntryLine, RawManifestLines } from './manifest-raw.js';
import { comparePaths } from './paths.js';
import type { Digest } from './types.js';

/** Output is yielded in pieces of about this size. */
const OUT_BYTES = 256 * 1024;

/** Options of mergeManifestDelta. */
export interface MergeOptions {
  /** The delta bytes (uncompressed), in any slices. */
  delta: AsyncIterable<Uint8Array>;
  /** Opens the base manifest the delta header names (may throw to refuse that base). */
  openBase: (base: Digest) => Promise<AsyncIterable<Uint8Array>>;
}

/**
 * Streams the manifest that base + delta describe: a merge of two
 * path-sorted streams, so memory is one slice of each input plus one output
 * piece, never either file. Base lines are copied, not decoded: the base is a
 * committed manifest, and the result is hashed against the version id by the
 * caller and then validated by the manifest decoder like any uploaded
 * manifest, so a damaged or unsorted base can only make the merge fail.
 * Throws invalid_manifest for a delta that does not fit its base: removing a
 * path the base lacks, "replacing" an entry with the same line (a delta must
 * be minimal, so there is exactly one per base and target), or an entry
 * count other than the header's.
 */
export async function* mergeManifestDelta(o: MergeOptions): AsyncGenerator<Buffer> {
  const deltaDecoder = new ManifestDeltaDecoder();
  const changes = decodeStream(o.delta, deltaDecoder);
  // The header comes before any change, so the first pull yields it (or the first change).
  let d = await changes.next();
  const header: DeltaHeader | null = deltaDecoder.header;
  if (header === null) throw manifestError('empty delta: no header line');
  const expected = header.entries;
  let baseSource: AsyncIterable<Uint8Array>;
  try {
    baseSource = await o.openBase(header.base);
  } catch (err) {
    await changes.return(undefined);
    throw err;
  }
  const base = decodeStream(baseSource, new RawManifestLines());

  let out: string[] = [`${headerLine(header)}\n`];
  let outBytes = out[0]!.length;
  let entries = 0;
  const emit = (line: string): Buffer | null => {
    out.push(line, '\n');
    outBytes += line.length + 1;
    entries++;
    if (outBytes < OUT_BYTES) return null;
    const piece = Buffer.from(out.join(''), 'utf8');
    out = [];
    outBytes = 0;
    return piece;
  };

  try {
    yield* merge();
  } finally {
    // Stops the input streams when the merge fails or its consumer gives up.
    await Promise.all([base.return(undefined), changes.return(undefined)]);
  }

  async function* merge(): AsyncGenerator<Buffer> {
    let b = await base.next();
    for (;;) {
      const be: RawEntryLine | undefined = b.done ? undefined : b.value;
      const dr: DeltaRecord | undefined = d.done ? undefined : d.value;
      if (be === undefined && dr === undefined) break;
      const order = be === undefined ? 1 : dr === undefined ? -1 : comparePaths(be.path, dr.path);
      let piece: Buffer | null = null;
      if (order < 0 && be !== undefined) {
        piece = emit(be.line);
        b = await base.next();
      } else if (dr !== undefined) {
        if (order > 0 && dr.entry === null)
          throw manifestError(`delta removes ${JSON.stringify(dr.path)}, which the base lacks`);
        if (order === 0 && be !== undefined && dr.entry !== null && be.line === dr.line)
          throw manifestError(`delta repeats the unchanged entry ${JSON.stringify(dr.path)}`);
        if (dr.entry !== null) piece = emit(dr.line);
        if (order === 0) b = await base.next();
        d = await changes.next();
      }
      if (piece !== null) yield piece;
    }
    if (entries !== expected)
      throw manifestError(`delta header announces ${expected} entries; merge gives ${entries}`);
    if (out.length > 0) yield Buffer.from(out.join(''), 'utf8');
  }
}
