import { z } from 'zod';
import { LIMITS } from '../core/limits.js';

/**
 * The v1 HTTP contract, shared by the server (validation, OpenAPI) and the
 * client SDK (types). Every list is bounded; every byte goes through a
 * presigned URL. A `url` in a PresignedRequest may be relative: the client
 * resolves it against the API base URL (the local blob store signs paths).
 */

export { LIMITS } from '../core/limits.js';

export const digestSchema = z
  .string()
  .regex(/^[0-9a-f]{64}$/, 'expected a lowercase hex SHA-256 digest');

/** Storage names: 1-128 chars, start alphanumeric, then [A-Za-z0-9._-]. */
export const storageNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'storage names are 1-128 of [A-Za-z0-9._-]');

/** A version reference: "latest", a full id, or a unique hex prefix (>= 4 chars). */
export const versionRefSchema = z.string().regex(/^(latest|[0-9a-f]{4,64})$/);

/** Path parameter of an upload session. */
export const sessionIdSchema = z.string().uuid();

/** Query of paged lists. */
export const pageQuery = z.object({
  cursor: z.string().max(512).optional(),
  limit: z.coerce.number().int().min(1).max(LIMITS.maxPageSize).optional(),
});

export const archiveFormatSchema = z.enum(['tar.gz', 'tar.zst']);

export const presignedRequestSchema = z.object({
  method: z.enum(['GET', 'PUT']),
  url: z.string(),
  headers: z.record(z.string(), z.string()),
  expiresAt: z.string(),
});

export const errorBodySchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
});

export const storageSchema = z.object({
  name: z.string(),
  head: digestSchema.nullable(),
  entries: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const archiveSchema = z.object({
  format: archiveFormatSchema,
  state: z.enum(['pending', 'building', 'ready', 'failed']),
  size: z.number().int().nullable(),
  sha256: digestSchema.nullable(),
  /** Present when state is ready and the request asked for URLs. */
  download: presignedRequestSchema.optional(),
});

/** A version as it appears in a storage's history. */
export const versionSummarySchema = z.object({
  id: digestSchema,
  storage: z.string(),
  seq: z.number().int(),
  parent: digestSchema.nullable(),
  message: z.string(),
  size: z.number().int(),
  files: z.number().int(),
  entries: z.number().int(),
  chunkRefs: z.number().int(),
  manifestSize: z.number().int(),
  bytesUploaded: z.number().int(),
  createdAt: z.string(),
  archives: z.array(archiveSchema),
});

export const versionDetailSchema = versionSummarySchema.extend({
  head: digestSchema.nullable(),
  manifest: presignedRequestSchema,
});

export const listStoragesResponse = z.object({
  storages: z.array(storageSchema),
  nextCursor: z.string().nullable(),
});

export const listVersionsResponse = z.object({
  versions: z.array(versionSummarySchema),
  nextCursor: z.string().nullable(),
});

/** POST /v1/storages/{storage}/uploads */
export const startUploadRequest = z.object({
  version: digestSchema,
  manifestSize: z.number().int().positive().max(LIMITS.maxManifestBytes),
  /** Expected head (compare-and-set); null for a storage that must have no head yet. */
  parent: digestSchema.nullable(),
  onConflict: z.enum(['fail', 'force']).default('fail'),
  message: z.string().max(LIMITS.maxMessageLength).default(''),
  /**
   * Offer to upload a manifest delta against `base` (a version the tenant
   * has) instead of the whole manifest; `manifestSize` stays the size of the
   * full manifest the server rebuilds. The answer carries `deltaUpload` when
   * the server accepts the base.
   */
  manifestDelta: z
    .object({
      base: digestSchema,
      size: z.number().int().positive().max(LIMITS.maxManifestBytes),
      sha256: digestSchema,
    })
    .optional(),
});

export const startUploadResponse = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('exists'),
    version: versionSummarySchema,
    /** True when head already was this version (nothing recorded). */
    unchanged: z.boolean(),
  }),
  z.object({
    status: z.literal('open'),
    session: z.string(),
    expiresAt: z.string(),
    /**
     * Presigned PUT for the manifest; absent when the server already holds the
     * manifest of this version (a repair push: the version exists but one of
     * its packs went missing), whose key is never presigned again.
     */
    manifestUpload: presignedRequestSchema.optional(),
    /** Presigned PUT for the manifest delta; absent when none was offered or its base is unknown (upload the manifest then). */
    deltaUpload: presignedRequestSchema.optional(),
  }),
]);

/** POST /v1/uploads/{session}/missing */
export const missingChunksRequest = z.object({
  digests: z.array(digestSchema).max(LIMITS.maxDigestsPerRequest),
});
export const missingChunksResponse = z.object({ missing: z.array(digestSchema) });

/** POST /v1/uploads/{session}/packs */
export const presignPacksRequest = z.object({
  packs: z
    .array(
      z.object({ id: digestSchema, size: z.number().int().positive().max(LIMITS.maxPackBytes) }),
    )
    .min(1)
    .max(LIMITS.maxPacksPerRequest),
});
export const presignPacksResponse = z.object({
  uploads: z.array(z.object({ pack: digestSchema, request: presignedRequestSchema })),
  /** Packs already stored and verified: not presigned, nothing to upload. */
  present: z.array(digestSchema).default([]),
});

/** POST /v1/uploads/{session}/commit (no body) */
export const commitResponse = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('committed'),
    version: versionSummarySchema,
    created: z.boolean(),
    previousHead: digestSchema.nullable(),
  }),
  /** 202: verification continues; call commit again. */
  z.object({
    status: z.literal('verifying'),
    packsVerified: z.number().int(),
    packsTotal: z.number().int(),
    entriesChecked: z.number().int(),
    entriesTotal: z.number().int(),
  }),
]);

/** POST /v1/storages/{storage}/versions/{version}/plan */
export const planRequest = z.object({
  digests: z.array(digestSchema).min(1).max(LIMITS.maxDigestsPerRequest),
});
export const planChunkSchema = z.object({
  digest: digestSchema,
  /** Offset of the stored bytes relative to the start of the range. */
  offset: z.number().int(),
  storedSize: z.number().int(),
  rawSize: z.number().int(),
  codec: z.enum(['raw', 'zstd']),
});
export const planResponse = z.object({
  packs: z.array(
    z.object({
      pack: digestSchema,
      request: presignedRequestSchema,
      /** Coalesced byte ranges [start, end) to fetch with Range headers. */
      ranges: z.array(
        z.object({
          start: z.number().int(),
          end: z.number().int(),
          chunks: z.array(planChunkSchema),
        }),
      ),
    }),
  ),
  /** Requested digests this version does not reference or the tenant does not hold. */
  unknown: z.array(digestSchema),
});

/** GET /v1/storages/{storage}/versions/{ref}/manifest-delta?base= (answers zstd bytes, not JSON) */
export const manifestDeltaQuery = z.object({
  /** Full id of the version the client holds (any storage of the tenant). */
  base: digestSchema,
});
/** Response header naming the full id of the version the delta rebuilds (ref resolved). */
export const MANIFEST_DELTA_VERSION_HEADER = 'x-trove-version';

export type StartUploadRequest = z.input<typeof startUploadRequest>;
export type StartUploadResponse = z.infer<typeof startUploadResponse>;
export type MissingChunksResponse = z.infer<typeof missingChunksResponse>;
export type PresignPacksRequest = z.infer<typeof presignPacksRequest>;
export type PresignPacksResponse = z.infer<typeof presignPacksResponse>;
export type CommitResponse = z.infer<typeof commitResponse>;
/**
 * POST /v1/storages/{storage}/versions/{ref}/missing-packs: a reader got 404
 * for these packs. The server looks at the object store itself and answers
 * which ones are really gone (and marks them, so the next push re-uploads
 * their chunks); a report alone changes nothing.
 */
export const missingPacksRequest = z.object({
  packs: z.array(digestSchema).min(1).max(100),
});
export const missingPacksResponse = z.object({ missing: z.array(digestSchema) });
export type MissingPacksResponse = z.infer<typeof missingPacksResponse>;

export type PlanRequest = z.infer<typeof planRequest>;
export type PlanResponse = z.infer<typeof planResponse>;
export type VersionSummary = z.infer<typeof versionSummarySchema>;
export type VersionDetail = z.infer<typeof versionDetailSchema>;
export type StorageSummary = z.infer<typeof storageSchema>;
export type ArchiveSummary = z.infer<typeof archiveSchema>;
export type ListStoragesResponse = z.infer<typeof listStoragesResponse>;
export type ListVersionsResponse = z.infer<typeof listVersionsResponse>;
export type PresignedRequestBody = z.infer<typeof presignedRequestSchema>;

// The routes that use these schemas, and their statuses, are written once:
// the table in src/http/routes.ts, which also generates GET /openapi.json.
