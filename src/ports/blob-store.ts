import type { Readable } from 'node:stream';

/**
 * Object storage port. Adapters (local disk, S3) only move bytes; key
 * validation and error wrapping live in `checkedBlobStore` (src/adapters/blob/checked.ts).
 * Keys are '/'-separated, ASCII [A-Za-z0-9._-] segments, built only by src/services/keys.ts.
 *
 * Errors: every method throws TroveError — `blob_not_found` for a missing key,
 * `digest_mismatch` / `size_mismatch` for bytes that do not match what was
 * declared, `unavailable` when the backend cannot be reached.
 */
export interface BlobStore {
  /** Size of an object, or null when it does not exist. */
  stat(key: string): Promise<{ size: number } | null>;

  /**
   * Streams an object, or the inclusive-exclusive byte range [start, end) of it.
   * Throws `blob_not_found`.
   */
  get(key: string, range?: { start: number; end: number }): Promise<Readable>;

  /**
   * Stores a stream under key. When `size` / `sha256` are given the bytes are
   * verified before the object becomes visible (atomic: a failed put leaves
   * nothing). Memory stays bounded whatever the length (multipart on S3).
   * Overwriting an existing key replaces it atomically.
   */
  put(
    key: string,
    body: Readable,
    options?: { size?: number; sha256?: string; contentType?: string },
  ): Promise<{ size: number; sha256: string }>;

  /** Deletes objects; missing keys are ignored. */
  delete(keys: string[]): Promise<void>;

  /**
   * A URL a client can PUT exactly `size` bytes with SHA-256 `sha256` to,
   * valid for `expiresInSeconds`. The client sends `headers` verbatim (on S3
   * they are signed: `content-length`, `x-amz-checksum-sha256`,
   * `if-none-match: *`), except that a fetch-based client leaves
   * `content-length` to fetch, which derives the same value from the body.
   *
   * Where the backend checks them, other bytes or another length are refused
   * (4xx) and nothing is stored. Some S3-compatible servers (s3rver) check
   * neither; callers must therefore verify size and digest before trusting an
   * upload (commit does), never rely on this URL alone.
   *
   * Where the backend honours it, an existing object's content never changes
   * through this URL (s3rver ignores If-None-Match). When the
   * object already exists the PUT answers 2xx (local store, which verified
   * the same bytes) or 412 Precondition Failed (S3: the write is conditional
   * on If-None-Match). Keys are content addressed, so clients must treat 412
   * as success: the object holds these very bytes.
   */
  presignPut(
    key: string,
    options: { size: number; sha256: string; expiresInSeconds: number },
  ): Promise<PresignedRequest>;

  /** A URL a client can GET (with optional Range header) for `expiresInSeconds`. */
  presignGet(key: string, options: { expiresInSeconds: number }): Promise<PresignedRequest>;

  /** Checks the backend is reachable (used by readiness probes and at start). */
  ping(): Promise<void>;
}

/** A request the client sends as is: method, absolute URL and headers it must include. */
export interface PresignedRequest {
  /** HTTP method to use. */
  method: 'GET' | 'PUT';
  /** Absolute URL including any signature query parameters. */
  url: string;
  /** Headers the client must send verbatim (signed headers on S3). */
  headers: Record<string, string>;
  /** When the URL stops working (ISO 8601). */
  expiresAt: string;
}
