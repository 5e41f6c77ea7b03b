import { createRequire } from 'node:module';
import type { TroveError } from '../errors.js';

/** The native binding's classes (a CommonJS module, so loaded with require). */
interface ZstdBinding {
  /** One-shot compressor at a fixed level. */
  Encoder: new (
    level: number,
  ) => { encodeSync(b: Buffer): Buffer; encode(b: Buffer): Promise<Buffer> };
  /** One-shot decompressor; decodes concatenated frames and does not bound its output. */
  Decoder: new () => { decodeSync(b: Buffer): Buffer; decode(b: Buffer): Promise<Buffer> };
}

/** The zstd binding, shared by the chunk codec and the archive streams. */
export const zstd: ZstdBinding = createRequire(import.meta.url)('@toondepauw/node-zstd');

const MAGIC = 0xfd2fb528;
const BLOCK_MAX = 128 * 1024;

/** What scanning one frame found. */
export interface FrameInfo {
  /** Offset just past the frame (exclusive). */
  end: number;
  /** True for a skippable frame (metadata a decoder ignores). */
  skippable: boolean;
  /** Frame_Content_Size from the header, or null when absent. */
  contentSize: number | null;
  /** Upper bound of the decompressed size, from the block headers. */
  maxOutput: number;
  /** Where the frame header ends (the first block header starts), relative to the buffer. */
  headerEnd: number;
  /** Whether the frame header has a Frame_Content_Size field. */
  hasContentSize: boolean;
}

/**
 * Walks the zstd frame starting at `start` (RFC 8878 section 3.1) by its
 * header and block headers, without decompressing. Returns null when `end`
 * comes before the frame does; throws `fail(...)` on a malformed frame. This
 * is what lets trove split concatenated frames and bound decompressed sizes
 * before handing bytes to a decoder that has no output limit.
 */
export function scanFrame(
  buf: Uint8Array,
  start: number,
  end: number,
  fail: (message: string) => TroveError,
): FrameInfo | null {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (end - start < 8) {
    if (end - start >= 4 && !isMagic(view.getUint32(start, true))) throw fail('not a zstd frame');
    return null;
  }
  const magic = view.getUint32(start, true);
  if ((magic & 0xfffffff0) === 0x184d2a50) {
    const stop = start + 8 + view.getUint32(start + 4, true);
    if (stop > end) return null;
    const info = { end: stop, skippable: true, contentSize: null, maxOutput: 0 };
    return { ...info, headerEnd: start + 8, hasContentSize: false };
  }
  if (magic !== MAGIC) throw fail('not a zstd frame');
  const fhd = buf[start + 4]!;
  if (fhd & 0x08) throw fail('zstd frame header has the reserved bit set');
  const fcsFlag = fhd >> 6;
  const single = (fhd & 0x20) !== 0;
  const checksum = (fhd & 0x04) !== 0;
  const dictBytes = [0, 1, 2, 4][fhd & 3]!;
  const fcsBytes = fcsFlag === 0 ? (single ? 1 : 0) : [0, 2, 4, 8][fcsFlag]!;
  let pos = start + 5;
  let window = 0;
  if (!single) {
    const wd = buf[pos++]!;
    const base = 2 ** (10 + (wd >> 3));
    window = base + (base / 8) * (wd & 7);
  }
  pos += dictBytes;
  if (pos + fcsBytes > end) return null;
  let contentSize: number | null = null;
  if (fcsBytes === 1) contentSize = buf[pos]!;
  else if (fcsBytes === 2) contentSize = view.getUint16(pos, true) + 256;
  else if (fcsBytes === 4) contentSize = view.getUint32(pos, true);
  else if (fcsBytes === 8) {
    const big = view.getBigUint64(pos, true);
    if (big > BigInt(Number.MAX_SAFE_INTEGER)) throw fail('zstd frame content size is too large');
    contentSize = Number(big);
  }
  pos += fcsBytes;
  const headerEnd = pos;
  if (single) window = contentSize ?? 0;
  const blockMax = Math.min(BLOCK_MAX, Math.max(window, 1));
  let maxOutput = 0;
  for (;;) {
    if (pos + 3 > end) return null;
    const bh = buf[pos]! | (buf[pos + 1]! << 8) | (buf[pos + 2]! << 16);
    pos += 3;
    const type = (bh >> 1) & 3;
    const size = bh >>> 3;
    if (type === 3) throw fail('zstd block of reserved type');
    if (size > blockMax) throw fail('zstd block larger than the block maximum');
    if (type === 1) {
      pos += 1;
      maxOutput += size;
    } else {
      pos += size;
      maxOutput += type === 0 ? size : blockMax;
    }
    if (pos > end) return null;
    if (bh & 1) break;
  }
  if (checksum) pos += 4;
  if (pos > end) return null;
  if (contentSize !== null && contentSize > maxOutput)
    throw fail('zstd frame content size exceeds what its blocks can hold');
  return {
    end: pos,
    skippable: false,
    contentSize,
    maxOutput,
    headerEnd,
    hasContentSize: fcsBytes > 0,
  };
}

function isMagic(m: number): boolean {
  return m === MAGIC || (m & 0xfffffff0) === 0x184d2a50;
}

/**
 * Returns the frame with a 4- or 8-byte Frame_Content_Size inserted when the
 * encoder left it out (the binding's streaming encoder does). A declared size
 * makes the decoder reject output of any other length, and lets `zstd -l`
 * report sizes. `frame` must be one complete frame produced by `zstd`.
 */
export function withContentSize(
  frame: Buffer,
  size: number,
  fail: (m: string) => TroveError,
): Buffer {
  const info = scanFrame(frame, 0, frame.length, fail);
  if (info === null || info.end !== frame.length || info.skippable)
    throw fail('not one zstd frame');
  if (info.hasContentSize) {
    if (info.contentSize !== size) throw fail('zstd frame content size differs');
    return frame;
  }
  const wide = size > 0xffffffff;
  const fcs = Buffer.alloc(wide ? 8 : 4);
  if (wide) fcs.writeBigUInt64LE(BigInt(size));
  else fcs.writeUInt32LE(size);
  const head = Buffer.from(frame.subarray(0, info.headerEnd));
  head[4] = (head[4]! & 0x3f) | ((wide ? 3 : 2) << 6);
  return Buffer.concat([head, fcs, frame.subarray(info.headerEnd)]);
}
