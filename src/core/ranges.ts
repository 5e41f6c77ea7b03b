import type { PackedChunk } from './types.js';

/** One byte range of a pack to fetch with a single ranged GET. */
export interface PackRange {
  /** First byte (inclusive). */
  start: number;
  /** Last byte + 1 (exclusive), as in Buffer.subarray; an HTTP Range header wants end - 1. */
  end: number;
  /** The chunks inside the range, in offset order. */
  chunks: PackedChunk[];
}

/** How far coalescing may go. */
export interface CoalesceOptions {
  /** Largest gap of unwanted bytes worth downloading to save a request (default 256 KiB). */
  maxGap: number;
  /** Largest range (default 16 MiB); a single larger chunk still gets its own range. */
  maxRangeBytes: number;
}

/** Defaults: a request costs about as much as 256 KiB of transfer on S3-like stores. */
export const DEFAULT_COALESCE: Readonly<CoalesceOptions> = Object.freeze({
  maxGap: 256 * 1024,
  maxRangeBytes: 16 * 1024 * 1024,
});

/**
 * Groups chunks of one pack into few ranges: sorted by offset, a chunk joins
 * the current range when the gap before it is at most maxGap and the range
 * stays within maxRangeBytes.
 */
export function coalesceRanges(
  chunks: readonly PackedChunk[],
  opts: Partial<CoalesceOptions> = {},
): PackRange[] {
  const { maxGap, maxRangeBytes } = { ...DEFAULT_COALESCE, ...opts };
  const ordered = [...chunks].sort((a, b) => a.offset - b.offset);
  const out: PackRange[] = [];
  let cur: PackRange | null = null;
  for (const c of ordered) {
    const end = c.offset + c.storedSize;
    if (
      cur !== null &&
      c.offset - cur.end <= maxGap &&
      Math.max(cur.end, end) - cur.start <= maxRangeBytes
    ) {
      cur.end = Math.max(cur.end, end);
      cur.chunks.push(c);
    } else {
      cur = { start: c.offset, end, chunks: [c] };
      out.push(cur);
    }
  }
  return out;
}
