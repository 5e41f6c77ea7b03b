import { TroveError } from '../errors.js';
import type { ChunkCodec } from './types.js';
import { scanFrame, withContentSize, zstd } from './zstd-frame.js';

/** zstd level for chunks: ~3.3x on source code at >100 MB/s per core (see docs/formats.md). */
export const CHUNK_ZSTD_LEVEL = 3;

/** Compression must save at least this share of the bytes, else the chunk is stored raw. */
const MIN_SAVING = 0.03;

const encoder = new zstd.Encoder(CHUNK_ZSTD_LEVEL);
const decoder = new zstd.Decoder();

/** A chunk as stored in a pack. */
export interface StoredChunk {
  /** How `data` is encoded. */
  codec: ChunkCodec;
  /** The stored bytes: the raw chunk itself or one zstd frame. */
  data: Buffer;
}

const packError = (message: string): TroveError => new TroveError('invalid_pack', message);

function choose(raw: Buffer, compressed: Buffer): StoredChunk {
  if (compressed.length > raw.length * (1 - MIN_SAVING)) return { codec: 'raw', data: raw };
  return { codec: 'zstd', data: withContentSize(compressed, raw.length, packError) };
}

/** Compresses one chunk on the libuv threadpool (so several run in parallel across cores). */
export async function compressChunk(raw: Buffer): Promise<StoredChunk> {
  if (raw.length === 0) return { codec: 'raw', data: raw };
  return choose(raw, await encoder.encode(raw));
}

/** Same as compressChunk, on the calling thread. */
export function compressChunkSync(raw: Buffer): StoredChunk {
  if (raw.length === 0) return { codec: 'raw', data: raw };
  return choose(raw, encoder.encodeSync(raw));
}

/**
 * Returns the raw bytes of a stored chunk, or throws TroveError('invalid_pack')
 * when the data is corrupt or does not decode to exactly `rawSize` bytes.
 * The frame is checked to be a single frame whose declared size is `rawSize`
 * before decoding, which bounds the memory a hostile frame can make us use.
 */
export function decompressChunk(codec: ChunkCodec, data: Buffer, rawSize: number): Buffer {
  if (codec === 'raw') {
    if (data.length !== rawSize)
      throw packError(`raw chunk is ${data.length} bytes, expected ${rawSize}`);
    return data;
  }
  if (codec !== 'zstd') throw packError(`unknown chunk codec ${String(codec)}`);
  const info = scanFrame(data, 0, data.length, packError);
  if (info === null || info.skippable || info.end !== data.length)
    throw packError('stored chunk is not exactly one zstd frame');
  if (info.contentSize !== rawSize)
    throw packError(`zstd frame declares ${String(info.contentSize)} bytes, expected ${rawSize}`);
  if (info.maxOutput > rawSize + 128 * 1024) throw packError('zstd frame has too many blocks');
  let out: Buffer;
  try {
    out = decoder.decodeSync(data);
  } catch (err) {
    throw new TroveError('invalid_pack', `corrupt zstd chunk: ${String(err)}`, undefined, {
      cause: err,
    });
  }
  if (out.length !== rawSize)
    throw packError(`zstd chunk decoded to ${out.length} bytes, expected ${rawSize}`);
  return out;
}
