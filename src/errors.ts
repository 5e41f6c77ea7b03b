/**
 * The single error type of trove. Every failure a user can cause or see has a
 * stable `code`; the HTTP layer maps codes to statuses in `httpStatusOf` and
 * the CLI maps them to exit codes in `exitCodeOf`, nowhere else.
 */

export const ERROR_CODES = {
  /** Malformed request: bad JSON, a field out of range, unknown parameter. */
  invalid_request: { status: 400, exit: 2 },
  /** A manifest that is not canonical or not valid (paths, order, sizes, duplicates). */
  invalid_manifest: { status: 400, exit: 5 },
  /** A pack, chunk, manifest or archive whose bytes do not match the digest. */
  digest_mismatch: { status: 422, exit: 5 },
  /** Uploaded bytes whose length differs from what was declared. */
  size_mismatch: { status: 422, exit: 5 },
  /** A pack whose structure (footer, offsets, codec) is invalid. */
  invalid_pack: { status: 422, exit: 5 },
  /** A commit references chunks this tenant has not stored; `details.missing` lists them. */
  missing_chunks: { status: 422, exit: 5 },
  /** An upload named in the session was never uploaded. */
  missing_upload: { status: 422, exit: 5 },
  /** The request body is larger than allowed. */
  payload_too_large: { status: 413, exit: 2 },
  /** No API route matches the method and path. */
  route_not_found: { status: 404, exit: 3 },
  /** The storage does not exist. */
  storage_not_found: { status: 404, exit: 3 },
  /** The version (or version prefix) does not exist in the storage. */
  version_not_found: { status: 404, exit: 3 },
  /** A version prefix matches more than one version. */
  ambiguous_version: { status: 409, exit: 2 },
  /** The upload session does not exist, has expired or was already ended. */
  session_not_found: { status: 404, exit: 3 },
  /** Head moved since the push started (compare-and-set failed). */
  head_conflict: { status: 409, exit: 4 },
  /** A signed URL whose signature does not verify. */
  signature_invalid: { status: 403, exit: 5 },
  /** A signed URL past its expiry. */
  url_expired: { status: 403, exit: 5 },
  /** Writing an object that already exists with different content. */
  already_exists: { status: 409, exit: 4 },
  /** A blob key that does not exist. */
  blob_not_found: { status: 404, exit: 3 },
  /**
   * A pack a version needs is gone from the object store (the server checked);
   * `details.packs` names them. Pushing the same content again repairs it.
   */
  pack_missing: { status: 410, exit: 5 },
  /** A path (in a manifest, tar or on disk) that would escape its root. */
  unsafe_path: { status: 400, exit: 5 },
  /** A pulled path the local filesystem cannot hold (ENAMETOOLONG); `details.path` names it. */
  path_too_long: { status: 400, exit: 5 },
  /** The target directory for a pull is in a state we refuse to touch. */
  target_conflict: { status: 409, exit: 4 },
  /** Another process holds the data directory. */
  data_dir_locked: { status: 503, exit: 6 },
  /** Invalid configuration (flags, environment). */
  invalid_config: { status: 500, exit: 2 },
  /** The server could not be reached or answered with a transport error. */
  unreachable: { status: 503, exit: 6 },
  /** This process is serving as many expensive requests as it may; retry after `Retry-After` seconds. */
  busy: { status: 429, exit: 6 },
  /** A manifest delta the server refuses to compute (manifests or delta too large); fetch the whole manifest. */
  delta_too_large: { status: 422, exit: 5 },
  /** The database or blob store has no space left (disk full, quota): free space or grow the volume. */
  storage_full: { status: 503, exit: 6 },
  /** A dependency (database, object store) is unavailable. */
  unavailable: { status: 503, exit: 6 },
  /** A bug or an unexpected failure. */
  internal: { status: 500, exit: 1 },
} as const satisfies Record<string, { status: number; exit: number }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class TroveError extends Error {
  /** Stable machine-readable code; never changes meaning once released. */
  readonly code: ErrorCode;
  /** Structured context safe to show a client (e.g. the missing digests). */
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TroveError';
    this.code = code;
    this.details = details;
  }

  /** The JSON body the API sends for this error. */
  toJSON(): { error: { code: ErrorCode; message: string; details?: Record<string, unknown> } } {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details ? { details: this.details } : {}),
      },
    };
  }
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}

/** HTTP status for an error code (the only place this mapping lives). */
export function httpStatusOf(code: ErrorCode): number {
  return ERROR_CODES[code].status;
}

/** CLI exit code for an error code (the only place this mapping lives). */
export function exitCodeOf(code: ErrorCode): number {
  return ERROR_CODES[code].exit;
}

/** Wraps anything thrown into a TroveError, keeping TroveErrors as they are. */
export function toTroveError(err: unknown): TroveError {
  if (err instanceof TroveError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new TroveError('internal', message, undefined, { cause: err });
}
