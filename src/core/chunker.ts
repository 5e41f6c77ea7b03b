import { CHUNKER_PARAMS, type ChunkerParams } from './chunker-params.js';
import { GEAR } from './gear.js';

export { CHUNKER_ID, CHUNKER_PARAMS, type ChunkerParams, chunkerId } from './chunker-params.js';

/** A mask of `bits` one-bits in the top of a 32-bit word: high bits of a gear hash see the most bytes. */
function topMask(bits: number): number {
  return bits <= 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
}

interface Masks {
  /** Harder mask used before the average size (fewer early cuts). */
  small: number;
  /** Easier mask used after it (fewer forced cuts at max). */
  large: number;
}

const maskCache = new Map<number, Masks>();

/** FastCDC normalized chunking, level 2: two bits harder before avg, two easier after. */
function masksFor(avg: number): Masks {
  let m = maskCache.get(avg);
  if (m === undefined) {
    const bits = Math.round(Math.log2(avg));
    m = { small: topMask(bits + 2), large: topMask(bits - 2) };
    maskCache.set(avg, m);
  }
  return m;
}

/** Throws unless min ≤ avg ≤ max, avg is a power of two and all are positive integers. */
export function checkParams(p: ChunkerParams): void {
  const ok =
    Number.isInteger(p.min) &&
    Number.isInteger(p.max) &&
    p.min >= 64 &&
    p.min <= p.avg &&
    p.avg <= p.max &&
    p.max <= 0x40000000 &&
    2 ** Math.round(Math.log2(p.avg)) === p.avg;
  if (!ok) throw new RangeError(`invalid chunker parameters ${JSON.stringify(p)}`);
}

/**
 * Returns the end (exclusive) of the chunk that starts at `start`, looking at
 * no more than `max` bytes. The result depends only on buf[start, min(end,
 * start+max)), which is what lets the streaming chunker agree with this one.
 */
export function findCutPoint(
  buf: Uint8Array,
  start: number,
  end: number,
  params: ChunkerParams = CHUNKER_PARAMS,
): number {
  let remaining = end - start;
  if (remaining <= params.min) return end;
  if (remaining > params.max) remaining = params.max;
  const center = remaining < params.avg ? start + remaining : start + params.avg;
  const stop = start + remaining;
  const { small, large } = masksFor(params.avg);
  const gear = GEAR;
  let hash = 0;
  let i = start + params.min;
  // Unrolled by two with separate loops per mask: measured ~30% faster than
  // one loop with a mask variable. Boundaries are identical to a plain loop.
  for (; i + 1 < center; i += 2) {
    hash = ((hash << 1) + gear[buf[i]!]!) | 0;
    if ((hash & small) === 0) return i + 1;
    hash = ((hash << 1) + gear[buf[i + 1]!]!) | 0;
    if ((hash & small) === 0) return i + 2;
  }
  for (; i < center; i++) {
    hash = ((hash << 1) + gear[buf[i]!]!) | 0;
    if ((hash & small) === 0) return i + 1;
  }
  for (; i + 1 < stop; i += 2) {
    hash = ((hash << 1) + gear[buf[i]!]!) | 0;
    if ((hash & large) === 0) return i + 1;
    hash = ((hash << 1) + gear[buf[i + 1]!]!) | 0;
    if ((hash & large) === 0) return i + 2;
  }
  for (; i < stop; i++) {
    hash = ((hash << 1) + gear[buf[i]!]!) | 0;
    if ((hash & large) === 0) return i + 1;
  }
  return stop;
}

/** Cuts a whole buffer; chunks are subarrays of `buf`, not copies. Empty input gives no chunks. */
export function chunkBuffer(buf: Buffer, params: ChunkerParams = CHUNKER_PARAMS): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  while (start < buf.length) {
    const cut = findCutPoint(buf, start, buf.length, params);
    out.push(buf.subarray(start, cut));
    start = cut;
  }
  return out;
}

/**
 * Streaming chunker: push data in any slices and get exactly the chunks
 * chunkBuffer would give for the concatenation. It only cuts when `max`
 * bytes are available (or at finish), and keeps fewer than `max` bytes
 * between calls. Emitted chunks may be subarrays of the pushed buffers, so
 * callers must not reuse a buffer after pushing it.
 */
export class Chunker {
  private readonly params: ChunkerParams;
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  /** Creates a chunker; parameters default to CHUNKER_PARAMS. */
  constructor(params: ChunkerParams = CHUNKER_PARAMS) {
    checkParams(params);
    this.params = params;
  }

  /** Adds data; returns the chunks that are now final. */
  push(data: Buffer): Buffer[] {
    const { max } = this.params;
    this.pending.push(data);
    this.pendingBytes += data.length;
    // Small pushes are only collected: concatenating once per `max` bytes keeps copying ~1x.
    if (this.pendingBytes < max) return [];
    const buf = this.pending.length === 1 ? data : Buffer.concat(this.pending, this.pendingBytes);
    const out: Buffer[] = [];
    let start = 0;
    while (buf.length - start >= max) {
      const cut = findCutPoint(buf, start, buf.length, this.params);
      out.push(buf.subarray(start, cut));
      start = cut;
    }
    // Copy the tail so it neither pins nor aliases a large buffer.
    const tail = Buffer.from(buf.subarray(start));
    this.pending = tail.length > 0 ? [tail] : [];
    this.pendingBytes = tail.length;
    return out;
  }

  /** Ends the input; returns the remaining chunks. The chunker can be reused afterwards. */
  finish(): Buffer[] {
    const rest = chunkBuffer(Buffer.concat(this.pending, this.pendingBytes), this.params);
    this.pending = [];
    this.pendingBytes = 0;
    return rest;
  }
}
