import { TroveError } from '../errors.js';
import { CHUNKER_ID } from './chunker-params.js';
import { isDigest } from './digest.js';
import { LineSplitter } from './line-splitter.js';
import { MAX_MANIFEST_ENTRIES, MAX_MANIFEST_LINE_BYTES } from './manifest.js';
import {
  type DeltaHeader,
  type DeltaRecord,
  deltaHeaderLine,
  MAX_DELTA_CHANGES,
  removalLine,
} from './manifest-delta.js';
import { entryFromJson, entryLine, entryProblem, manifestError } from './manifest-line.js';
import { comparePaths, entryPathProblem } from './paths.js';

function isCount(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

function headerFromJson(v: unknown): DeltaHeader {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw manifestError('not an object');
  const o = v as Record<string, unknown>;
  if (o.trove !== 'manifest-delta') throw manifestError('not a trove manifest delta');
  if (o.v !== 1) throw manifestError(`unsupported delta version ${JSON.stringify(o.v)}`);
  if (!isDigest(o.base)) throw manifestError('"base" must be a version id');
  if (o.chunker !== CHUNKER_ID) throw manifestError(`unsupported chunker ${String(o.chunker)}`);
  for (const k of ['entries', 'files', 'size', 'chunkRefs', 'changes'] as const) {
    if (!isCount(o[k])) throw manifestError(`header "${k}" must be a non-negative integer`);
  }
  return o as unknown as DeltaHeader;
}

/**
 * Streaming decoder that accepts only canonical deltas: canonical header and
 * lines (checked by re-encoding and comparing bytes, as the manifest decoder
 * does), paths strictly increasing in manifest order, change count as
 * announced. Whether a change fits its base (a removal names a base path, a
 * replacement differs) is the merge's check. Memory: one partial line.
 */
export class ManifestDeltaDecoder {
  /** The header, available once the first line has been pushed. */
  header: DeltaHeader | null = null;
  private readonly lines = new LineSplitter(MAX_MANIFEST_LINE_BYTES);
  private lineNo = 0;
  private changes = 0;
  private prev: string | null = null;
  private ended = false;

  /** Consumes bytes; returns the change records whose lines are now complete. Throws invalid_manifest. */
  push(chunk: Uint8Array): DeltaRecord[] {
    if (this.ended) throw manifestError('data pushed after end');
    const out: DeltaRecord[] = [];
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

  /** Declares the input complete; throws unless the header and every announced change were seen. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.lines.hasPartialLine) throw this.fail('last line has no newline', this.lineNo + 1);
    if (this.header === null) throw manifestError('empty delta: no header line');
    if (this.changes !== this.header.changes)
      throw manifestError(`header announces ${this.header.changes} changes; found ${this.changes}`);
  }

  private fail(message: string, line: number, cause?: unknown): TroveError {
    const details = cause instanceof TroveError ? cause.details : undefined;
    return new TroveError('invalid_manifest', `manifest delta line ${line}: ${message}`, {
      ...details,
      line,
    });
  }

  private line(bytes: Buffer): DeltaRecord | null {
    const n = ++this.lineNo;
    try {
      const text = bytes.toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw manifestError('not valid JSON');
      }
      // Invalid UTF-8 decodes to U+FFFD and would round-trip as a string, so such lines are compared as bytes.
      const canonical = (line: string): boolean =>
        line === text && (!text.includes('\ufffd') || Buffer.from(line, 'utf8').equals(bytes));
      if (this.header === null) {
        const h = headerFromJson(json);
        if (!canonical(deltaHeaderLine(h))) throw manifestError('header is not in canonical form');
        if (h.entries > MAX_MANIFEST_ENTRIES || h.changes > MAX_DELTA_CHANGES)
          throw manifestError('too many entries or changes');
        this.header = h;
        return null;
      }
      if (this.changes >= this.header.changes)
        throw manifestError('more changes than the header announces');
      const record = recordFromJson(json);
      if (!canonical(record.line)) throw manifestError('change is not in canonical form');
      if (this.prev !== null && comparePaths(this.prev, record.path) >= 0)
        throw manifestError(`path ${JSON.stringify(record.path)} is duplicated or not sorted`, {
          path: record.path,
        });
      this.prev = record.path;
      this.changes++;
      return record;
    } catch (err) {
      if (err instanceof TroveError) throw this.fail(err.message, n, err);
      throw this.fail(String(err), n);
    }
  }
}

function recordFromJson(json: unknown): DeltaRecord {
  const o = json as Record<string, unknown> | null;
  if (typeof o === 'object' && o !== null && !Array.isArray(o) && o.t === '-') {
    if (typeof o.p !== 'string') throw manifestError('"p" must be a string');
    const problem = entryPathProblem(o.p);
    if (problem !== null) throw manifestError(`invalid path ${JSON.stringify(o.p)}: ${problem}`);
    return { path: o.p, entry: null, line: removalLine(o.p) };
  }
  const entry = entryFromJson(json);
  const problem = entryProblem(entry);
  if (problem !== null) throw manifestError(problem);
  return { path: entry.path, entry, line: entryLine(entry) };
}

/** Decodes a whole delta held in memory. Throws invalid_manifest. */
export function decodeManifestDelta(bytes: Uint8Array): {
  header: DeltaHeader;
  records: DeltaRecord[];
} {
  const d = new ManifestDeltaDecoder();
  const records = d.push(bytes);
  d.end();
  return { header: d.header!, records };
}
