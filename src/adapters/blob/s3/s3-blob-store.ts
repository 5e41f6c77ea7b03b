import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  DeleteObjectsCommand,
  type DeleteObjectsCommandOutput,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { TroveError } from '../../../errors.js';
import { createLogger, type Logger } from '../../../observability/logger.js';
import type { BlobStore, PresignedRequest } from '../../../ports/blob-store.js';
import { assertValidBlobKey } from '../checked.js';
import {
  createS3Client,
  type ResolvedS3Options,
  resolveS3Options,
  type S3BlobStoreOptions,
} from './client.js';
import { isNotFound, mapS3Error, s3ErrorInfo } from './errors.js';
import { putStream, sha256Base64 } from './put.js';
import { exactRange } from './range.js';

/** DeleteObjects takes at most 1000 keys per request. */
const DELETE_BATCH = 1000;

/**
 * The presigner moves every x-amz-* header into the query string, where S3
 * ignores a checksum; this one must stay a signed header. Content-Length and
 * If-None-Match are not x-amz-* and stay signed headers anyway.
 */
const PRESIGN_PUT_UNHOISTABLE = new Set(['x-amz-checksum-sha256']);

/**
 * BlobStore on S3 or an S3-compatible service (AWS SDK v3). Only moves bytes:
 * use it through `checkedBlobStore`. See docs/blob-s3.md.
 */
export class S3BlobStore implements BlobStore {
  private readonly client: S3Client;
  private readonly opts: ResolvedS3Options;
  private readonly logger: Logger;

  constructor(options: S3BlobStoreOptions) {
    this.opts = resolveS3Options(options);
    this.client = options.client ?? createS3Client(options);
    this.logger =
      options.logger ?? createLogger({ level: 'warn', base: { component: 's3-blob-store' } });
  }

  async stat(key: string): Promise<{ size: number } | null> {
    try {
      const head = await this.client.send(
        new HeadObjectCommand({ Bucket: this.opts.bucket, Key: this.fullKey(key) }),
      );
      return { size: head.ContentLength ?? 0 };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw this.fail(err, 'HeadObject');
    }
  }

  async get(key: string, range?: { start: number; end: number }): Promise<Readable> {
    if (range !== undefined && range.start === range.end) {
      // HTTP cannot ask for zero bytes; the object must still exist and hold the offset.
      const stat = await this.stat(key);
      if (stat === null) throw notFound(key);
      if (range.end > stat.size) throw pastEnd(range, stat.size);
      return Readable.from([]);
    }
    try {
      const out = await this.client.send(
        new GetObjectCommand({
          Bucket: this.opts.bucket,
          Key: this.fullKey(key),
          ...(range ? { Range: `bytes=${range.start}-${range.end - 1}` } : {}),
        }),
      );
      const body = out.Body as Readable | undefined;
      if (!body) throw new Error('GetObject returned no body');
      return range === undefined ? body : exactRange(body, out.ContentRange, range);
    } catch (err) {
      if (isNotFound(err)) throw notFound(key);
      if (range !== undefined && s3ErrorInfo(err).name === 'InvalidRange') {
        throw new TroveError('invalid_request', 'byte range starts past the end of the object', {
          ...range,
        });
      }
      throw this.fail(err, 'GetObject');
    }
  }

  async put(
    key: string,
    body: Readable,
    options?: { size?: number; sha256?: string; contentType?: string },
  ): Promise<{ size: number; sha256: string }> {
    const { bucket, partSize, concurrency } = this.opts;
    try {
      const target = {
        client: this.client,
        bucket,
        key: this.fullKey(key),
        partSize,
        concurrency,
        logger: this.logger,
      };
      return await putStream(target, body, options);
    } catch (err) {
      throw this.fail(err, 'put');
    }
  }

  async delete(keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      const batch = keys.slice(i, i + DELETE_BATCH);
      let out: DeleteObjectsCommandOutput;
      try {
        const command = new DeleteObjectsCommand({
          Bucket: this.opts.bucket,
          Delete: { Objects: batch.map((key) => ({ Key: this.fullKey(key) })), Quiet: true },
        });
        withContentMd5(command);
        out = await this.client.send(command);
      } catch (err) {
        throw this.fail(err, 'DeleteObjects');
      }
      // Missing keys are not errors in S3; anything listed here is a real failure.
      const errors = (out.Errors ?? []).filter((e) => e.Code !== 'NoSuchKey');
      if (errors.length > 0) {
        const first = errors[0];
        throw new TroveError(
          'unavailable',
          `S3 DeleteObjects failed for ${errors.length} key(s): ${first?.Code} ${first?.Message ?? ''}`.trim(),
          {
            failed: errors.slice(0, 20).map((e) => ({ key: e.Key, code: e.Code })),
          },
        );
      }
    }
  }

  async presignPut(
    key: string,
    options: { size: number; sha256: string; expiresInSeconds: number },
  ): Promise<PresignedRequest> {
    const checksum = sha256Base64(options.sha256);
    const command = new PutObjectCommand({
      Bucket: this.opts.bucket,
      Key: this.fullKey(key),
      ContentLength: options.size,
      ChecksumSHA256: checksum,
      IfNoneMatch: '*',
    });
    const signedAt = new Date();
    const url = await this.presign(
      command,
      options.expiresInSeconds,
      signedAt,
      PRESIGN_PUT_UNHOISTABLE,
    );
    return {
      method: 'PUT',
      url,
      headers: {
        'content-length': String(options.size),
        'x-amz-checksum-sha256': checksum,
        'if-none-match': '*',
      },
      expiresAt: expiryOf(signedAt, options.expiresInSeconds),
    };
  }

  async presignGet(key: string, options: { expiresInSeconds: number }): Promise<PresignedRequest> {
    const command = new GetObjectCommand({ Bucket: this.opts.bucket, Key: this.fullKey(key) });
    const signedAt = new Date();
    const url = await this.presign(command, options.expiresInSeconds, signedAt, new Set());
    return {
      method: 'GET',
      url,
      headers: {},
      expiresAt: expiryOf(signedAt, options.expiresInSeconds),
    };
  }

  async ping(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.opts.bucket }));
    } catch (err) {
      // HeadBucket has no body, so a missing bucket is only a bare 404.
      if (s3ErrorInfo(err).status === 404) {
        throw new TroveError(
          'invalid_config',
          `S3 bucket ${this.opts.bucket} does not exist at ${this.opts.endpointLabel}; create it`,
          { bucket: this.opts.bucket },
          { cause: err },
        );
      }
      throw this.fail(err, 'HeadBucket');
    }
  }

  private async presign(
    command: PutObjectCommand | GetObjectCommand,
    expiresIn: number,
    signingDate: Date,
    unhoistableHeaders: Set<string>,
  ): Promise<string> {
    try {
      return await getSignedUrl(this.client, command, {
        expiresIn,
        signingDate,
        unhoistableHeaders,
      });
    } catch (err) {
      throw this.fail(err, 'presign');
    }
  }

  /** Drivers are usable unwrapped too, so a key is checked before it becomes an S3 key. */
  private fullKey(key: string): string {
    assertValidBlobKey(key);
    return `${this.opts.prefix}${key}`;
  }

  private fail(err: unknown, op: string): TroveError {
    return mapS3Error(err, { op, bucket: this.opts.bucket, endpoint: this.opts.endpointLabel });
  }
}

/**
 * DeleteObjects is the one call S3 documents as needing Content-MD5; the SDK
 * now sends a CRC32 instead, which AWS accepts but older MinIO and other
 * S3-compatible services refuse. Adding Content-MD5 (signed) satisfies both.
 */
function withContentMd5(command: DeleteObjectsCommand): void {
  command.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { headers?: Record<string, string>; body?: unknown };
      if (
        request.headers &&
        (typeof request.body === 'string' || request.body instanceof Uint8Array)
      ) {
        request.headers['content-md5'] = createHash('md5').update(request.body).digest('base64');
      }
      return next(args);
    },
    { step: 'build', name: 'troveDeleteObjectsContentMd5' },
  );
}

function notFound(key: string): TroveError {
  return new TroveError('blob_not_found', `no blob ${key}`, { key });
}

function pastEnd(range: { start: number; end: number }, size: number): TroveError {
  return new TroveError(
    'invalid_request',
    `byte range [${range.start}, ${range.end}) extends past the end (${size})`,
    {
      ...range,
      size,
    },
  );
}

/** SigV4 expiry counts from the whole second of X-Amz-Date. */
function expiryOf(signedAt: Date, seconds: number): string {
  return new Date(Math.floor(signedAt.getTime() / 1000) * 1000 + seconds * 1000).toISOString();
}
