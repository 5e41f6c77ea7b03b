import { Readable } from 'node:stream';
import { TroveError } from '../../../errors.js';

/** `bytes first-last/total` of a Content-Range header, or null when absent or unparsable. */
export function parseContentRange(
  header: string | undefined,
): { first: number; last: number; total: number } | null {
  const match = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(header ?? '');
  if (!match) return null;
  return { first: Number(match[1]), last: Number(match[2]), total: Number(match[3]) };
}

/** The first `length` bytes of `body`; the rest is never read (the source is destroyed). */
function firstBytes(body: Readable, length: number): Readable {
  async function* take(): AsyncGenerator<Buffer> {
    let left = length;
    try {
      for await (const chunk of body) {
        const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
        if (buf.length >= left) {
          yield buf.subarray(0, left);
          return;
        }
        left -= buf.length;
        yield buf;
      }
    } finally {
      body.destroy();
    }
  }
  return Readable.from(take(), { objectMode: false });
}

/**
 * Makes a ranged GetObject answer exactly [start, end). S3 clamps a range that
 * runs past the end (the port refuses it), and some S3-compatible servers
 * (s3rver with `bytes=0-0`) send more than asked: trimmed here, so callers can
 * trust the length.
 */
export function exactRange(
  body: Readable,
  contentRange: string | undefined,
  range: { start: number; end: number },
): Readable {
  const got = parseContentRange(contentRange);
  if (got === null) {
    body.destroy();
    throw new TroveError(
      'unavailable',
      `S3 answered a range request without a usable Content-Range (${contentRange})`,
    );
  }
  if (range.end > got.total) {
    body.destroy();
    throw new TroveError(
      'invalid_request',
      `byte range [${range.start}, ${range.end}) extends past the end (${got.total})`,
      { ...range, size: got.total },
    );
  }
  if (got.first !== range.start || got.last < range.end - 1) {
    body.destroy();
    throw new TroveError(
      'unavailable',
      `S3 answered range ${contentRange} for [${range.start}, ${range.end})`,
    );
  }
  return got.last === range.end - 1 ? body : firstBytes(body, range.end - range.start);
}
