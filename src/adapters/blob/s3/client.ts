import { S3Client } from '@aws-sdk/client-s3';
import { TroveError } from '../../../errors.js';
import type { Logger } from '../../../observability/logger.js';
import { isValidBlobKey } from '../checked.js';

/** S3 refuses multipart parts below 5 MiB (except the last). */
export const MIN_PART_SIZE_BYTES = 5 * 1024 * 1024;
/** Default multipart part size. */
export const DEFAULT_PART_SIZE_BYTES = 16 * 1024 * 1024;
/** Default number of parts uploaded at once. */
export const DEFAULT_PART_CONCURRENCY = 4;
/** Longest wait for a TCP connection to the endpoint. */
const CONNECT_TIMEOUT_MS = 10_000;
/** Longest silence on an open connection (a stalled transfer) before it fails. */
const IDLE_SOCKET_TIMEOUT_MS = 300_000;
/** S3 refuses parts above 5 GiB. */
const MAX_PART_SIZE_BYTES = 5 * 1024 * 1024 * 1024;

/** Static credentials; without them the SDK's default provider chain is used. */
export interface S3Credentials {
  /** Access key id. */
  accessKeyId: string;
  /** Secret access key. */
  secretAccessKey: string;
  /** Session token of temporary credentials. */
  sessionToken?: string;
}

/** Options of `S3BlobStore` (see docs/blob-s3.md). */
export interface S3BlobStoreOptions {
  /** Bucket holding every object; it must exist. */
  bucket: string;
  /** Signing region; default 'us-east-1' (R2 wants 'auto'). */
  region?: string;
  /** Endpoint URL of an S3-compatible service (MinIO, R2, s3rver); default AWS. */
  endpoint?: string;
  /** Path-style addressing (bucket in the path), needed by most non-AWS services. */
  forcePathStyle?: boolean;
  /** Static credentials; default: the SDK's provider chain (env, profile, IMDS, ...). */
  credentials?: S3Credentials;
  /** Key prefix inside the bucket ('/'-separated segments, no leading or trailing '/'). */
  prefix?: string;
  /** Multipart part size in bytes; default 16 MiB, at least 5 MiB. */
  partSizeBytes?: number;
  /** Parts uploaded at once per put; default 4. Memory ≈ partSize × (concurrency + 1). */
  partConcurrency?: number;
  /** A ready client (its own endpoint and credentials); the options above then only set the bucket layout. */
  client?: S3Client;
  /** Where handled failures (a refused multipart abort) are reported; default warn+ to stderr. */
  logger?: Logger;
}

/** Options with defaults applied and checked. */
export interface ResolvedS3Options {
  /** Bucket name. */
  bucket: string;
  /** Normalized key prefix ending in '/', or '' for none. */
  prefix: string;
  /** Part size in bytes. */
  partSize: number;
  /** Parts in flight per put. */
  concurrency: number;
  /** Endpoint shown in error messages. */
  endpointLabel: string;
}

function invalidConfig(message: string, details?: Record<string, unknown>): TroveError {
  return new TroveError('invalid_config', `S3 blob store: ${message}`, details);
}

/** Applies defaults and refuses options S3 would reject later. */
export function resolveS3Options(options: S3BlobStoreOptions): ResolvedS3Options {
  if (typeof options.bucket !== 'string' || options.bucket.length === 0) {
    throw invalidConfig('bucket is required');
  }
  const partSize = options.partSizeBytes ?? DEFAULT_PART_SIZE_BYTES;
  if (
    !Number.isSafeInteger(partSize) ||
    partSize < MIN_PART_SIZE_BYTES ||
    partSize > MAX_PART_SIZE_BYTES
  ) {
    throw invalidConfig(
      `partSizeBytes must be an integer in ${MIN_PART_SIZE_BYTES}..${MAX_PART_SIZE_BYTES}`,
      {
        partSizeBytes: partSize,
      },
    );
  }
  const concurrency = options.partConcurrency ?? DEFAULT_PART_CONCURRENCY;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1 || concurrency > 64) {
    throw invalidConfig('partConcurrency must be an integer in 1..64', {
      partConcurrency: concurrency,
    });
  }
  let prefix = '';
  if (options.prefix !== undefined && options.prefix !== '') {
    // Accept a trailing slash, as people write prefixes both ways.
    const trimmed = options.prefix.replace(/\/$/, '');
    if (!isValidBlobKey(trimmed)) {
      throw invalidConfig('prefix must be /-separated [A-Za-z0-9._-] segments', {
        prefix: options.prefix,
      });
    }
    prefix = `${trimmed}/`;
  }
  return {
    bucket: options.bucket,
    prefix,
    partSize,
    concurrency,
    endpointLabel: options.endpoint ?? `AWS S3 (${options.region ?? 'us-east-1'})`,
  };
}

/**
 * An S3Client as trove needs it. Checksums only WHEN_REQUIRED: trove sends its
 * own SHA-256 on every PutObject, and the SDK's default (CRC32 trailers in
 * aws-chunked bodies) is stored corrupted by s3rver and unsupported by some
 * S3-compatible services.
 */
export function createS3Client(
  options: Omit<S3BlobStoreOptions, 'client' | 'bucket' | 'logger'>,
): S3Client {
  return new S3Client({
    region: options.region ?? 'us-east-1',
    ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
    forcePathStyle: options.forcePathStyle ?? false,
    ...(options.credentials !== undefined ? { credentials: options.credentials } : {}),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // Without limits a black-holed endpoint hangs a probe or a job forever.
    requestHandler: {
      connectionTimeout: CONNECT_TIMEOUT_MS,
      socketTimeout: IDLE_SOCKET_TIMEOUT_MS,
    },
  });
}
