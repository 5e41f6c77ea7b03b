import { Transform, type TransformCallback } from 'node:stream';
import { TroveError } from '../errors.js';
import { scanFrame, withContentSize, zstd } from './zstd-frame.js';

/** Default uncompressed size of each independent frame written by the compress stream. */
export const ZSTD_FRAME_SIZE = 4 * 1024 * 1024;
/** Largest compressed frame the decompress stream accepts. */
export const MAX_ZSTD_FRAME_BYTES = 64 * 1024 * 1024;
/** Largest decompressed frame (upper bound from its block headers) the decompress stream accepts. */
export const MAX_ZSTD_FRAME_OUTPUT = 256 * 1024 * 1024;

const SLICE = 1024 * 1024;

const streamError = (message: string): TroveError =>
  new TroveError('invalid_request', `malformed zstd stream: ${message}`);

/** Options of createZstdCompressStream. */
export interface ZstdCompressOptions {
  /** zstd level (default 3). */
  level?: number;
  /** Uncompressed bytes per frame (default ZSTD_FRAME_SIZE). */
  frameSize?: number;
  /** Frames compressed at once on the threadpool (default 2, one per core here). */
  concurrency?: number;
}

/**
 * Compresses into a sequence of independent zstd frames of `frameSize` input
 * bytes each (a valid .zst that `zstd -d` and `tar --zstd` read), compressing
 * up to `concurrency` frames at once on the libuv threadpool while keeping
 * output order. Memory: about (concurrency + 1) frames.
 */
export function createZstdCompressStream(opts: ZstdCompressOptions = {}): Transform {
  const frameSize = opts.frameSize ?? ZSTD_FRAME_SIZE;
  const concurrency = Math.max(1, opts.concurrency ?? 2);
  if (!Number.isInteger(frameSize) || frameSize < 1) throw new RangeError('invalid frameSize');
  const encoder = new zstd.Encoder(opts.level ?? 3);
  let parts: Buffer[] = [];
  let bytes = 0;
  let frames = 0;
  const inflight: Promise<Buffer>[] = [];

  const start = (input: Buffer): void => {
    const size = input.length;
    const p = encoder.encode(input).then((f) => withContentSize(f, size, streamError));
    // Rejections are observed in order by drain(); this only silences the early warning.
    p.catch(() => {});
    inflight.push(p);
    frames++;
  };
  const cut = (): void => {
    start(parts.length === 1 ? parts[0]! : Buffer.concat(parts, bytes));
    parts = [];
    bytes = 0;
  };
  const drain = async (self: Transform, keep: number): Promise<void> => {
    while (inflight.length > keep) self.push(await inflight.shift()!);
  };

  return new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
      let off = 0;
      while (off < chunk.length) {
        const take = Math.min(frameSize - bytes, chunk.length - off);
        parts.push(chunk.subarray(off, off + take));
        bytes += take;
        off += take;
        if (bytes === frameSize) cut();
      }
      drain(this, concurrency - 1).then(() => cb(), cb);
    },
    flush(cb: TransformCallback) {
      // An empty input still gets one (empty) frame: a zero-byte file is not a valid .zst.
      if (bytes > 0 || frames === 0) cut();
      drain(this, 0).then(() => cb(), cb);
    },
  });
}

/**
 * Decompresses a stream of concatenated zstd frames (and skips skippable
 * frames), one frame at a time: frames are found by parsing their headers,
 * so memory is bounded by MAX_ZSTD_FRAME_BYTES in and MAX_ZSTD_FRAME_OUTPUT
 * out. Frames with or without a declared content size are accepted. A
 * single huge frame (as `zstd` writes for a whole file) beyond those bounds
 * is refused with `invalid_request`, as is anything malformed or truncated.
 */
export function createZstdDecompressStream(): Transform {
  const decoder = new zstd.Decoder();
  let buf = Buffer.alloc(0);
  let begin = 0;
  let end = 0;

  const append = (chunk: Buffer): void => {
    if (end + chunk.length > buf.length) {
      const live = end - begin;
      if (live + chunk.length > MAX_ZSTD_FRAME_BYTES + 8)
        throw streamError(`frame larger than ${MAX_ZSTD_FRAME_BYTES} bytes`);
      const next =
        live + chunk.length <= buf.length
          ? buf
          : Buffer.alloc(
              Math.min(
                Math.max(2 * buf.length, live + chunk.length, 65536),
                MAX_ZSTD_FRAME_BYTES + 8,
              ),
            );
      buf.copy(next, 0, begin, end);
      buf = next;
      end = live;
      begin = 0;
    }
    chunk.copy(buf, end);
    end += chunk.length;
  };

  const frames = async (self: Transform): Promise<void> => {
    for (;;) {
      const info = scanFrame(buf, begin, end, streamError);
      if (info === null) return;
      if (!info.skippable) {
        if (info.maxOutput > MAX_ZSTD_FRAME_OUTPUT)
          throw streamError(`frame may decompress to more than ${MAX_ZSTD_FRAME_OUTPUT} bytes`);
        let out: Buffer;
        try {
          out = await decoder.decode(buf.subarray(begin, info.end));
        } catch (err) {
          throw new TroveError(
            'invalid_request',
            `malformed zstd stream: ${String(err)}`,
            undefined,
            { cause: err },
          );
        }
        if (info.contentSize !== null && out.length !== info.contentSize)
          throw streamError('frame content size mismatch');
        if (out.length > 0) self.push(out);
      }
      begin = info.end;
    }
  };

  return new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
      (async () => {
        // Appending in slices lets one large write hold many frames without tripping the bound.
        for (let off = 0; off < chunk.length; off += SLICE) {
          append(chunk.subarray(off, off + SLICE));
          await frames(this);
        }
      })().then(() => cb(), cb);
    },
    flush(cb: TransformCallback) {
      if (end > begin) cb(streamError('stream ends inside a frame'));
      else cb();
    },
  });
}
