import { PassThrough, type Readable } from 'node:stream';
import { TroveError } from '../../errors.js';
import type { BlobStore, PresignedRequest } from '../../ports/blob-store.js';

/** Longest key accepted; S3 allows 1024 bytes and keys are ASCII. */
export const MAX_BLOB_KEY_LENGTH = 1024;
/** Longest presigned URL lifetime; SigV4 caps presigned URLs at 7 days. */
export const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;

const SEGMENT = /^[A-Za-z0-9._-]+$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;

/** True for a key of '/'-separated [A-Za-z0-9._-] segments, none empty, '.' or '..'. */
export function isValidBlobKey(key: unknown): key is string {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_BLOB_KEY_LENGTH) return false;
  for (const segment of key.split('/')) {
    if (segment === '.' || segment === '..' || !SEGMENT.test(segment)) return false;
  }
  return true;
}

/** Throws TroveError('invalid_request') unless `isValidBlobKey(key)`. */
export function assertValidBlobKey(key: unknown): asserts key is string {
  if (!isValidBlobKey(key)) {
    const shown = typeof key === 'string' ? key.slice(0, 100) : typeof key;
    throw new TroveError('invalid_request', `invalid blob key: ${JSON.stringify(shown)}`);
  }
}

function isSize(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function invalid(message: string, details?: Record<string, unknown>): TroveError {
  return new TroveError('invalid_request', message, details);
}

function checkRange(range: { start: number; end: number } | undefined): void {
  if (range === undefined) return;
  const { start, end } = range;
  if (!isSize(start) || !isSize(end) || start > end) {
    throw invalid('invalid byte range: expected integers 0 <= start <= end', { start, end });
  }
}

function checkSha(sha256: unknown): void {
  if (typeof sha256 !== 'string' || !SHA256_HEX.test(sha256)) {
    throw invalid('sha256 must be 64 lowercase hex characters');
  }
}

function checkExpiry(seconds: unknown): void {
  if (
    typeof seconds !== 'number' ||
    !Number.isInteger(seconds) ||
    seconds < 1 ||
    seconds > MAX_PRESIGN_SECONDS
  ) {
    throw invalid(`expiresInSeconds must be an integer in 1..${MAX_PRESIGN_SECONDS}`, {
      expiresInSeconds: seconds,
    });
  }
}

/** Errno codes of a full disk or an exhausted quota: retrying will not help until space is freed. */
const FULL = new Set(['ENOSPC', 'EDQUOT']);

/** Anything a driver throws that is not already a TroveError means the backend failed. */
function wrap(err: unknown): TroveError {
  if (err instanceof TroveError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && FULL.has(code))
    return new TroveError(
      'storage_full',
      'the blob store disk is full: free space or grow the volume, then retry',
      { errno: code },
      { cause: err },
    );
  const message = err instanceof Error ? err.message : String(err);
  return new TroveError('unavailable', `blob store: ${message}`, undefined, { cause: err });
}

async function guarded<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw wrap(err);
  }
}

/**
 * Errors emitted mid-stream (a reset S3 connection, an EIO) must reach the
 * reader as TroveErrors too; destroying the outer stream releases the inner one.
 */
function wrapStream(inner: Readable): Readable {
  const outer = new PassThrough({ highWaterMark: inner.readableHighWaterMark });
  inner.on('error', (err) => outer.destroy(wrap(err)));
  outer.on('close', () => {
    if (!inner.destroyed) inner.destroy();
  });
  inner.pipe(outer);
  return outer;
}

/**
 * The front layer every BlobStore is used through: validates keys, ranges and
 * options, so drivers only move bytes, and turns any foreign error into
 * TroveError('unavailable') (or 'storage_full' for a full disk or quota).
 */
export function checkedBlobStore(inner: BlobStore): BlobStore {
  return {
    async stat(key) {
      assertValidBlobKey(key);
      return guarded(() => inner.stat(key));
    },
    async get(key, range) {
      assertValidBlobKey(key);
      checkRange(range);
      return wrapStream(await guarded(() => inner.get(key, range)));
    },
    async put(key, body, options) {
      try {
        assertValidBlobKey(key);
        if (options?.size !== undefined && !isSize(options.size)) {
          throw invalid('size must be a non-negative integer', { size: options.size });
        }
        if (options?.sha256 !== undefined) checkSha(options.sha256);
      } catch (err) {
        // put owns the body: a rejected one must not keep a socket or file open.
        body.destroy();
        throw err;
      }
      return guarded(() => inner.put(key, body, options));
    },
    async delete(keys) {
      if (!Array.isArray(keys)) throw invalid('keys must be an array');
      for (const key of keys) assertValidBlobKey(key);
      return guarded(() => inner.delete(keys));
    },
    async presignPut(key, options): Promise<PresignedRequest> {
      assertValidBlobKey(key);
      if (!isSize(options.size)) {
        throw invalid('size must be a non-negative integer', { size: options.size });
      }
      checkSha(options.sha256);
      checkExpiry(options.expiresInSeconds);
      return guarded(() => inner.presignPut(key, options));
    },
    async presignGet(key, options): Promise<PresignedRequest> {
      assertValidBlobKey(key);
      checkExpiry(options.expiresInSeconds);
      return guarded(() => inner.presignGet(key, options));
    },
    async ping() {
      return guarded(() => inner.ping());
    },
  };
}
