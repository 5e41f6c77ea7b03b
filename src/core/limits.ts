/**
 * Bounds client and server agree on: the server enforces them (request
 * validation, commit), the client sizes its requests and packs by them.
 * Here rather than in the wire schemas so the services can read them
 * without depending on the HTTP contract; src/api/schemas.ts re-exports them.
 */
export const LIMITS = {
  /** Largest JSON request body the API accepts. */
  maxBodyBytes: 1024 * 1024,
  /** Digests per missing-chunks or plan request. */
  maxDigestsPerRequest: 10_000,
  /** Packs per presign request. */
  maxPacksPerRequest: 100,
  /** Largest pack the server accepts. */
  maxPackBytes: 256 * 1024 * 1024,
  /** Largest manifest the server accepts. */
  maxManifestBytes: 512 * 1024 * 1024,
  /** Largest page of storages or history. */
  maxPageSize: 1000,
  /** Longest push message. */
  maxMessageLength: 4096,
} as const;
