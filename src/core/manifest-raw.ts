import { LineSplitter } from './line-splitter.js';
import { MAX_MANIFEST_LINE_BYTES } from './manifest.js';
import { headerFromJson, type ManifestHeaderLine, manifestError } from './manifest-line.js';

/**
 * Raw access to a canonical manifest's entry lines, without decoding them.
 * For manifests whose bytes are vouched for by other means (a committed
 * base whose merge result is checked against the new version id, the
 * client's own copy checked against its id): a delta merge or diff only
 * needs each line's path and its exact text, and decoding every entry of a
 * large, mostly unchanged tree is what made an incremental push cost in
 * proportion to the tree instead of the change.
 */

/** One entry line of a manifest: its path and its canonical text (no newline). */
export interface RawEntryLine {
  /** The entry's path (decoded from the line's first field). */
  path: string;
  /** The line exactly as stored, without its newline. */
  line: string;
}

const PREFIX = '{"p":"';

/**
 * The path of a canonical entry line (`{"p":"…",…`). Only the path token is
 * parsed; a line that does not start like an entry throws invalid_manifest.
 */
export function linePath(line: string): string {
  if (!line.startsWith(PREFIX)) throw manifestError('not a manifest entry line');
  let escaped = false;
  for (let i = PREFIX.length; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === 0x5c) {
      escaped = true;
      i++;
    } else if (c === 0x22) {
      const token = line.slice(PREFIX.length - 1, i + 1);
      return escaped ? (JSON.parse(token) as string) : token.slice(1, -1);
    }
  }
  throw manifestError('unterminated entry path');
}

/** Splits manifest bytes pushed in any slices into entry lines, skipping the header line. */
export class RawManifestLines {
  private readonly lines = new LineSplitter(MAX_MANIFEST_LINE_BYTES);
  private sawHeader = false;
  /** The header line's fields, once the first line is in. */
  header: ManifestHeaderLine | null = null;

  /** Consumes bytes; returns the entry lines they complete. */
  push(chunk: Uint8Array): RawEntryLine[] {
    const out: RawEntryLine[] = [];
    this.lines.push(
      chunk,
      (buf) => {
        if (!this.sawHeader) {
          this.sawHeader = true;
          this.header = headerFromJson(JSON.parse(buf.toString('utf8')));
          return;
        }
        const line = buf.toString('utf8');
        out.push({ path: linePath(line), line });
      },
      () => manifestError(`line longer than ${MAX_MANIFEST_LINE_BYTES} bytes`),
    );
    return out;
  }

  /** Throws unless the input ended on a line boundary after a header. */
  end(): void {
    if (!this.sawHeader) throw manifestError('empty manifest: no header line');
    if (this.lines.hasPartialLine) throw manifestError('last line has no newline');
  }
}

/** Every entry line of a whole manifest held in memory. */
export function rawEntryLines(bytes: Uint8Array): RawEntryLine[] {
  const reader = new RawManifestLines();
  const out = reader.push(bytes);
  reader.end();
  return out;
}

/**
 * Turns a push-style decoder (RawManifestLines, ManifestDecoder, the delta
 * decoder) into a pull-style iterator over a byte stream, one slice at a time.
 */
export async function* decodeStream<T>(
  source: AsyncIterable<Uint8Array>,
  decoder: { push(chunk: Uint8Array): T[]; end(): void },
): AsyncGenerator<T> {
  for await (const part of source) yield* decoder.push(part);
  decoder.end();
}
