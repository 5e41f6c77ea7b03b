import { createHash } from 'node:crypto';
import { TroveError } from '../errors.js';
import { MAX_CHUNK_SIZE } from './chunker-params.js';
import { isDigest, sha256Hex } from './digest.js';
import type { ChunkCodec, Digest, PackedChunk } from './types.js';

/**
 * Pack layout (docs/formats.md has the byte-level description):
 *   stored chunk bytes, back to back, from offset 0
 *   footer: one 49-byte record per chunk, in offset order
 *   trailer: 24 bytes
 */
export const PACK_MAGIC = 'TROVEPK1';
/** Size of the fixed trailer at the end of every pack. */
export const PACK_TRAILER_SIZE = 24;
/** Size of one footer record. */
export const PACK_FOOTER_RECORD_SIZE = 49;

const CODECS: readonly ChunkCodec[] = ['raw', 'zstd'];

/** What the trailer says about the footer before it. */
export interface PackTrailer {
  /** Length of the footer in bytes. */
  footerSize: number;
  /** Number of chunk records in the footer. */
  chunkCount: number;
  /** First 8 bytes of the footer's SHA-256, hex. */
  footerHash: string;
}

const invalid = (message: string, details?: Record<string, unknown>): TroveError =>
  new TroveError('invalid_pack', message, details);

function encodeFooter(chunks: readonly PackedChunk[]): { footer: Buffer; trailer: Buffer } {
  const footer = Buffer.alloc(chunks.length * PACK_FOOTER_RECORD_SIZE);
  chunks.forEach((c, i) => {
    const at = i * PACK_FOOTER_RECORD_SIZE;
    footer.write(c.digest, at, 32, 'hex');
    footer.writeBigUInt64LE(BigInt(c.offset), at + 32);
    footer.writeUInt32LE(c.storedSize, at + 40);
    footer.writeUInt32LE(c.rawSize, at + 44);
    footer[at + 48] = CODECS.indexOf(c.codec);
  });
  const trailer = Buffer.alloc(PACK_TRAILER_SIZE);
  trailer.writeUInt32LE(footer.length, 0);
  trailer.writeUInt32LE(chunks.length, 4);
  createHash('sha256').update(footer).digest().copy(trailer, 8, 0, 8);
  trailer.write(PACK_MAGIC, 16, 'latin1');
  return { footer, trailer };
}

/** Largest stored size accepted for a chunk of `rawSize` bytes. */
function maxStored(codec: ChunkCodec, rawSize: number): number {
  // trove only stores zstd when it is smaller; a few bytes of slack allow other encoders.
  return codec === 'raw' ? rawSize : rawSize + 64;
}

/** Collects stored chunks into one pack; keeps references to them, copies nothing until finish. */
export class PackWriter {
  private readonly parts: Buffer[] = [];
  private readonly chunks: PackedChunk[] = [];
  private readonly seen = new Set<Digest>();
  private bytes = 0;

  /** Appends a chunk. Throws RangeError on a duplicate or out-of-range chunk (a caller bug). */
  add(digest: Digest, stored: Buffer, rawSize: number, codec: ChunkCodec): void {
    if (!isDigest(digest)) throw new RangeError(`invalid digest ${digest}`);
    if (this.seen.has(digest)) throw new RangeError(`chunk ${digest} is already in this pack`);
    if (!CODECS.includes(codec)) throw new RangeError(`unknown codec ${codec}`);
    if (!Number.isInteger(rawSize) || rawSize < 1 || rawSize > MAX_CHUNK_SIZE)
      throw new RangeError(`raw size ${rawSize} out of range`);
    if (stored.length > maxStored(codec, rawSize) || (codec === 'raw' && stored.length !== rawSize))
      throw new RangeError(`stored size ${stored.length} out of range for ${codec}`);
    this.seen.add(digest);
    this.chunks.push({ digest, offset: this.bytes, storedSize: stored.length, rawSize, codec });
    this.parts.push(stored);
    this.bytes += stored.length;
  }

  /** Bytes the pack will have, footer and trailer included. */
  get size(): number {
    return this.bytes + this.chunks.length * PACK_FOOTER_RECORD_SIZE + PACK_TRAILER_SIZE;
  }

  /** Number of chunks added so far. */
  get chunkCount(): number {
    return this.chunks.length;
  }

  /** Seals the pack: its bytes as a list (upload them in order), size, id and chunk table. */
  finish(): { bytes: Buffer[]; size: number; id: Digest; chunks: PackedChunk[] } {
    const { footer, trailer } = encodeFooter(this.chunks);
    const bytes = [...this.parts, footer, trailer];
    return { bytes, size: this.size, id: sha256Hex(bytes), chunks: [...this.chunks] };
  }
}

/** Reads the trailer from the last PACK_TRAILER_SIZE bytes of `buf`. Throws invalid_pack. */
export function parsePackTrailer(buf: Uint8Array): PackTrailer {
  if (buf.length < PACK_TRAILER_SIZE) throw invalid('pack trailer is truncated');
  const t = Buffer.from(
    buf.buffer,
    buf.byteOffset + buf.length - PACK_TRAILER_SIZE,
    PACK_TRAILER_SIZE,
  );
  if (t.toString('latin1', 16, 24) !== PACK_MAGIC) throw invalid('not a trove pack (bad magic)');
  const footerSize = t.readUInt32LE(0);
  const chunkCount = t.readUInt32LE(4);
  if (footerSize !== chunkCount * PACK_FOOTER_RECORD_SIZE)
    throw invalid(`footer size ${footerSize} does not fit ${chunkCount} chunks`);
  return { footerSize, chunkCount, footerHash: t.toString('hex', 8, 16) };
}

/**
 * Parses and validates the footer of a pack of `packSize` bytes: its hash,
 * and every record (known codec, sizes in range, chunks contiguous from
 * offset 0 up to the footer, no duplicate digest). Throws invalid_pack.
 */
export function parsePackFooter(
  footer: Buffer,
  trailer: PackTrailer,
  packSize: number,
): PackedChunk[] {
  if (footer.length !== trailer.footerSize)
    throw invalid(`footer is ${footer.length} bytes, trailer says ${trailer.footerSize}`);
  const dataEnd = packSize - PACK_TRAILER_SIZE - footer.length;
  if (!Number.isSafeInteger(packSize) || dataEnd < 0)
    throw invalid('pack is smaller than its footer');
  if (createHash('sha256').update(footer).digest('hex').slice(0, 16) !== trailer.footerHash)
    throw invalid('pack footer checksum does not match');
  const chunks: PackedChunk[] = [];
  const seen = new Set<Digest>();
  let expected = 0;
  for (let at = 0; at < footer.length; at += PACK_FOOTER_RECORD_SIZE) {
    const digest = footer.toString('hex', at, at + 32);
    const offset = footer.readBigUInt64LE(at + 32);
    const storedSize = footer.readUInt32LE(at + 40);
    const rawSize = footer.readUInt32LE(at + 44);
    const codec = CODECS[footer[at + 48]!];
    const where = { chunk: digest, index: at / PACK_FOOTER_RECORD_SIZE };
    if (codec === undefined)
      throw invalid(`chunk ${digest} has unknown codec ${footer[at + 48]}`, where);
    if (offset !== BigInt(expected)) throw invalid(`chunk ${digest} is not contiguous`, where);
    if (rawSize < 1 || rawSize > MAX_CHUNK_SIZE)
      throw invalid(`chunk ${digest} raw size ${rawSize} out of range`, where);
    if (storedSize > maxStored(codec, rawSize) || (codec === 'raw' && storedSize !== rawSize))
      throw invalid(`chunk ${digest} stored size ${storedSize} out of range`, where);
    if (seen.has(digest)) throw invalid(`chunk ${digest} appears twice`, where);
    seen.add(digest);
    chunks.push({ digest, offset: expected, storedSize, rawSize, codec });
    expected += storedSize;
  }
  if (expected !== dataEnd)
    throw invalid(`chunks cover ${expected} bytes but the data region is ${dataEnd} bytes`);
  return chunks;
}

/** The footer and trailer a pack with these chunks must end with. */
export function packTail(chunks: readonly PackedChunk[]): Buffer {
  const { footer, trailer } = encodeFooter(chunks);
  return Buffer.concat([footer, trailer]);
}
