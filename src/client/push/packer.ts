import { LIMITS } from '../../api/schemas.js';
import { compressChunk, compressChunkSync, type StoredChunk } from '../../core/codec.js';
import { PACK_FOOTER_RECORD_SIZE, PackWriter } from '../../core/pack.js';
import { TroveError } from '../../errors.js';
import type { TroveClient } from '../api-client.js';

/** Options of PackUploader. */
export interface PackUploaderOptions {
  /** API client. */
  client: TroveClient;
  /** Upload session id. */
  session: string;
  /** Pack uploads in flight (memory holds at most concurrency + 1 packs, plus one being copied). */
  concurrency: number;
  /** Target pack size in bytes; a pack is sealed before it would exceed it. */
  packTargetSize: number;
  /** Chunks compressed concurrently on the threadpool. */
  compressConcurrency: number;
  /** Called after each pack upload with the raw bytes of its chunks. */
  onPackUploaded: (rawBytes: number) => void;
  /** Cancels uploads. */
  signal: AbortSignal | undefined;
}

/** Chunks smaller than this are compressed on the calling thread. */
const SYNC_COMPRESS_BELOW = 16 * 1024;

interface Sealed {
  id: string;
  size: number;
  /**
   * A Blob, not one concatenated Buffer: fetch copies a Buffer body on every
   * attempt and holds about two more copies while sending it (measured: 4
   * packs of 32 MiB in flight cost +270 MiB RSS as Buffers, +85 MiB as Blobs
   * of their chunks), while a Blob is copied once here and then streamed in
   * chunk-sized pieces; retries reuse it.
   */
  body: Blob;
  rawBytes: number;
  chunks: number;
}

/**
 * Compresses chunks (several at a time, so both cores work), fills packs of
 * the target size, and uploads each sealed pack through a presigned PUT with
 * at most `concurrency` uploads in flight. `add` waits when the uploads fall
 * behind, which bounds memory to about (concurrency + 1) packs.
 */
export class PackUploader {
  /** Packs uploaded so far. */
  packs = 0;
  /** Pack bytes uploaded so far. */
  bytes = 0;
  /** Chunks uploaded so far. */
  chunks = 0;
  private readonly o: PackUploaderOptions;
  private readonly target: number;
  private writer = new PackWriter();
  private writerRaw = 0;
  private readonly compressing: { digest: string; size: number; job: Promise<StoredChunk> }[] = [];
  private readonly uploads = new Set<Promise<void>>();
  private failure: unknown = null;

  constructor(options: PackUploaderOptions) {
    this.o = options;
    this.target = Math.max(1024 * 1024, Math.min(options.packTargetSize, LIMITS.maxPackBytes / 2));
  }

  /** Queues one chunk (raw bytes, exactly once per digest per push). */
  async add(digest: string, raw: Buffer): Promise<void> {
    this.throwIfFailed();
    // Small chunks compress faster than a threadpool round trip takes.
    const job =
      raw.length < SYNC_COMPRESS_BELOW
        ? Promise.resolve(compressChunkSync(raw))
        : compressChunk(raw);
    // Keep the rejection handled until this job is awaited in order.
    job.catch(() => {});
    this.compressing.push({ digest, size: raw.length, job });
    while (this.compressing.length >= this.o.compressConcurrency) await this.place();
  }

  /** Places the remaining chunks, uploads the last pack and waits for every upload. */
  async finish(): Promise<void> {
    while (this.compressing.length > 0) await this.place();
    if (this.writer.chunkCount > 0) await this.seal();
    await Promise.all(this.uploads);
    this.throwIfFailed();
  }

  /** After a failure elsewhere: waits until no upload or compression is still running. */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.uploads, ...this.compressing.map((c) => c.job)]);
  }

  private async place(): Promise<void> {
    const next = this.compressing.shift();
    if (!next) return;
    const stored = await next.job;
    const grown = this.writer.size + stored.data.length + PACK_FOOTER_RECORD_SIZE;
    if (this.writer.chunkCount > 0 && grown > this.target) await this.seal();
    this.writer.add(next.digest, stored.data, next.size, stored.codec);
    this.writerRaw += next.size;
  }

  private async seal(): Promise<void> {
    // Wait for a free slot first: the Blob copy is made only when it can be sent
    // at once, so a waiting pack is held once (its chunks), not twice.
    while (this.uploads.size >= this.o.concurrency) await Promise.race(this.uploads);
    this.throwIfFailed();
    const done = this.writer.finish();
    const sealed: Sealed = {
      id: done.id,
      size: done.size,
      body: new Blob(done.bytes),
      rawBytes: this.writerRaw,
      chunks: done.chunks.length,
    };
    this.writer = new PackWriter();
    this.writerRaw = 0;
    const upload: Promise<void> = this.upload(sealed)
      .catch((err: unknown) => {
        this.failure ??= err;
      })
      .finally(() => this.uploads.delete(upload));
    this.uploads.add(upload);
  }

  private async upload(pack: Sealed): Promise<void> {
    const { client, session, signal } = this.o;
    const res = await client.presignPacks(session, [{ id: pack.id, size: pack.size }], signal);
    // Already stored (another push packed the same chunks the same way): nothing to send.
    if (res.present.includes(pack.id)) return;
    const request = res.uploads.find((u) => u.pack === pack.id)?.request;
    if (!request) throw new TroveError('internal', `the server did not presign pack ${pack.id}`);
    const put = await client.send(request, { body: () => pack.body, signal });
    await put.arrayBuffer();
    this.packs++;
    this.bytes += pack.size;
    this.chunks += pack.chunks;
    this.o.onPackUploaded(pack.rawBytes);
  }

  private throwIfFailed(): void {
    if (this.failure !== null) throw this.failure;
  }
}
