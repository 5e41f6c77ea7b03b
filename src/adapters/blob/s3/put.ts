import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { TroveError } from '../../../errors.js';
import type { Logger } from '../../../observability/logger.js';

/** Everything one put needs. */
export interface PutTarget {
  /** The client to send with. */
  client: S3Client;
  /** Bucket name. */
  bucket: string;
  /** Full object key (prefix applied). */
  key: string;
  /** Multipart part size (also the largest single PutObject). */
  partSize: number;
  /** Parts in flight at once. */
  concurrency: number;
  /** Where a failed abort is reported (it must not mask the original error). */
  logger: Logger;
}

/** Options the port's put takes. */
export interface PutOptions {
  /** Declared length in bytes. */
  size?: number;
  /** Declared SHA-256, lowercase hex. */
  sha256?: string;
  /** Content-Type to store. */
  contentType?: string;
}

/** Hex digest → the base64 form S3 checksum headers carry. */
export function sha256Base64(hex: string): string {
  return Buffer.from(hex, 'hex').toString('base64');
}

function sizeMismatch(expected: number, actual: number | string): TroveError {
  return new TroveError('size_mismatch', `expected ${expected} bytes, got ${actual}`, {
    expected,
    actual,
  });
}

/** The body's chunks; its own failures say so, rather than look like S3's. */
async function* readBody(body: Readable): AsyncGenerator<unknown> {
  try {
    yield* body;
  } catch (err) {
    if (err instanceof TroveError) throw err;
    const message = err instanceof Error ? err.message : String(err);
    throw new TroveError('unavailable', `reading the body to store failed: ${message}`, undefined, {
      cause: err,
    });
  }
}

/** One multipart upload: parts go out while the next one fills, at most `concurrency` at a time. */
class MultipartUpload {
  private readonly inFlight = new Set<Promise<void>>();
  private readonly parts: { PartNumber: number; ETag: string; ChecksumSHA256: string }[] = [];
  private failure: unknown;
  private nextPart = 1;

  private constructor(
    private readonly target: PutTarget,
    private readonly uploadId: string,
  ) {}

  static async create(
    target: PutTarget,
    contentType: string | undefined,
  ): Promise<MultipartUpload> {
    const created = await target.client.send(
      new CreateMultipartUploadCommand({
        Bucket: target.bucket,
        Key: target.key,
        ChecksumAlgorithm: 'SHA256',
        ...(contentType !== undefined ? { ContentType: contentType } : {}),
      }),
    );
    if (!created.UploadId) throw new Error('CreateMultipartUpload returned no UploadId');
    return new MultipartUpload(target, created.UploadId);
  }

  /** Starts uploading a part; waits first while `concurrency` parts are in flight. */
  async add(body: Buffer): Promise<void> {
    while (this.inFlight.size >= this.target.concurrency) await Promise.race(this.inFlight);
    if (this.failure !== undefined) throw this.failure;
    const partNumber = this.nextPart++;
    const checksum = createHash('sha256').update(body).digest('base64');
    const { client, bucket, key } = this.target;
    const sent = client
      .send(
        new UploadPartCommand({
          Bucket: bucket,
          Key: key,
          UploadId: this.uploadId,
          PartNumber: partNumber,
          Body: body,
          ContentLength: body.length,
          ChecksumSHA256: checksum,
        }),
      )
      .then((out) => {
        if (!out.ETag) throw new Error(`UploadPart ${partNumber} returned no ETag`);
        this.parts.push({ PartNumber: partNumber, ETag: out.ETag, ChecksumSHA256: checksum });
      })
      .catch((err: unknown) => {
        this.failure ??= err;
      })
      .finally(() => this.inFlight.delete(sent));
    this.inFlight.add(sent);
  }

  /** Waits for every part, then makes the object visible. */
  async complete(): Promise<void> {
    await Promise.all(this.inFlight);
    if (this.failure !== undefined) throw this.failure;
    if (this.nextPart === 1) throw new Error('multipart upload without parts');
    const parts = [...this.parts].sort((a, b) => a.PartNumber - b.PartNumber);
    await this.target.client.send(
      new CompleteMultipartUploadCommand({
        Bucket: this.target.bucket,
        Key: this.target.key,
        UploadId: this.uploadId,
        MultipartUpload: { Parts: parts },
      }),
    );
  }

  /**
   * Lets in-flight parts settle (parts landing after an abort would linger),
   * then aborts. A failed abort is logged, never thrown: the caller is already
   * failing with the error that matters, and a bucket lifecycle rule for
   * incomplete uploads reclaims what is left.
   */
  async abort(): Promise<void> {
    await Promise.allSettled(this.inFlight);
    const { client, bucket, key, logger } = this.target;
    try {
      await client.send(
        new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: this.uploadId }),
      );
    } catch (err) {
      logger.warn(
        'S3 AbortMultipartUpload failed; parts remain until a lifecycle rule removes them',
        {
          bucket,
          key,
          uploadId: this.uploadId,
          err,
        },
      );
    }
  }
}

/**
 * Streams `body` to S3 with memory bounded by partSize × (concurrency + 1),
 * hashing as it goes. A body that fits in one part is checked locally and then
 * sent as one PutObject (with its SHA-256, which S3 verifies); a larger one is
 * a multipart upload completed only after the declared size and digest match.
 * Any failure aborts the upload, so nothing becomes visible.
 */
export async function putStream(
  target: PutTarget,
  body: Readable,
  options: PutOptions = {},
): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  let size = 0;
  // A declared size below one part needs no more room: longer bodies fail the size check first.
  let part = Buffer.allocUnsafe(Math.min(target.partSize, options.size ?? target.partSize));
  let fill = 0;
  let upload: MultipartUpload | undefined;
  try {
    for await (const raw of readBody(body)) {
      const chunk: Buffer = Buffer.isBuffer(raw) ? raw : Buffer.from(raw as Uint8Array);
      size += chunk.length;
      // Fail as soon as the body is too long rather than upload the excess.
      if (options.size !== undefined && size > options.size)
        throw sizeMismatch(options.size, `more than ${options.size}`);
      hash.update(chunk);
      let offset = 0;
      while (offset < chunk.length) {
        const n = Math.min(chunk.length - offset, part.length - fill);
        chunk.copy(part, fill, offset, offset + n);
        fill += n;
        offset += n;
        if (fill === target.partSize) {
          // Only a full part: a smaller buffer (declared size) is filled exactly once.
          upload ??= await MultipartUpload.create(target, options.contentType);
          await upload.add(part);
          part = Buffer.allocUnsafe(target.partSize);
          fill = 0;
        }
      }
    }
    const sha256 = hash.digest('hex');
    if (options.size !== undefined && size !== options.size) throw sizeMismatch(options.size, size);
    if (options.sha256 !== undefined && sha256 !== options.sha256) {
      throw new TroveError('digest_mismatch', 'SHA-256 of the body differs from the declared one', {
        expected: options.sha256,
        actual: sha256,
      });
    }
    if (upload) {
      if (fill > 0) await upload.add(part.subarray(0, fill));
      await upload.complete();
    } else {
      await target.client.send(
        new PutObjectCommand({
          Bucket: target.bucket,
          Key: target.key,
          Body: part.subarray(0, fill),
          ContentLength: fill,
          ChecksumSHA256: sha256Base64(sha256),
          ...(options.contentType !== undefined ? { ContentType: options.contentType } : {}),
        }),
      );
    }
    return { size, sha256 };
  } catch (err) {
    body.destroy();
    await upload?.abort();
    throw err;
  }
}
