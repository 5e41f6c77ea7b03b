import type * as wire from '../api/schemas.js';
import type * as domain from '../services/results.js';

/**
 * Service results → the wire contract (src/api/schemas.ts). The services
 * answer in their own types; most equal a wire type field for field and go
 * out as they are, which the table in routes.ts checks per route (a handler
 * must return its route's `json` type). The list below states the same
 * pairs in one place, so a drift names the pair that broke.
 */

/** Compiles only when `Domain` is assignable to `Wire`. */
type Fits<Wire, Domain extends Wire> = [Wire, Domain];

/** Each service result sent as is, against its wire type (compile-time only). */
export type SentAsIs = [
  Fits<wire.StorageSummary, domain.StorageSummary>,
  Fits<wire.ListStoragesResponse, domain.StoragePage>,
  Fits<wire.ListVersionsResponse, domain.VersionPage>,
  Fits<wire.VersionDetail, domain.VersionDetail>,
  Fits<wire.StartUploadResponse, domain.StartUploadResult>,
  Fits<wire.MissingChunksResponse, domain.MissingChunks>,
  Fits<wire.PresignPacksResponse, domain.PackUploads>,
  Fits<wire.PlanResponse, domain.Plan>,
  Fits<wire.MissingPacksResponse, domain.MissingPacks>,
];

/** A commit call's result as the wire body (the route answers 200 committed, 202 verifying). */
export function commitBody(r: domain.CommitResult): wire.CommitResponse {
  if (r.state === 'committed') {
    return {
      status: 'committed',
      version: r.version,
      created: r.created,
      previousHead: r.previousHead,
    };
  }
  return {
    status: 'verifying',
    packsVerified: r.packsVerified,
    packsTotal: r.packsTotal,
    entriesChecked: r.entriesChecked,
    entriesTotal: r.entriesTotal,
  };
}
