import {
  commitResponse,
  listStoragesResponse,
  listVersionsResponse,
  MANIFEST_DELTA_VERSION_HEADER,
  manifestDeltaQuery,
  missingChunksRequest,
  missingChunksResponse,
  missingPacksRequest,
  missingPacksResponse,
  pageQuery,
  planRequest,
  planResponse,
  presignPacksRequest,
  presignPacksResponse,
  startUploadRequest,
  startUploadResponse,
  storageSchema,
  versionDetailSchema,
} from '../api/schemas.js';
import { CommitService } from '../services/commit.js';
import type { ServiceDeps } from '../services/deps.js';
import { readManifestDelta } from '../services/manifest-delta-read.js';
import { PlanService } from '../services/plan.js';
import { UploadService } from '../services/upload.js';
import { VersionService } from '../services/versions.js';
import { type Route, route } from './route-table.js';
import { commitBody } from './wire.js';

/**
 * The v1 routes, written once: mountRoutes registers them and openapi.ts
 * documents them from these entries. Each handler gets validated input, calls
 * one service method and answers its result (typed against the route's
 * `json` schema); the HTTP statuses are decided here, not in the services.
 */
export function v1Routes(deps: ServiceDeps): Route[] {
  const uploads = new UploadService(deps);
  const commits = new CommitService(deps);
  const versions = new VersionService(deps);
  const plans = new PlanService(deps);
  return [
    route({
      method: 'get',
      path: '/v1/storages',
      summary: 'List storages by name',
      query: pageQuery,
      json: listStoragesResponse,
      responses: { 200: 'a page of storages' },
      handle: (c, { query }) => versions.listStorages(c.var.tenant, query),
    }),
    route({
      method: 'get',
      path: '/v1/storages/{storage}',
      summary: 'One storage',
      json: storageSchema,
      responses: { 200: 'the storage' },
      handle: (c, { params }) => versions.getStorage(c.var.tenant, params.storage),
    }),
    route({
      method: 'get',
      path: '/v1/storages/{storage}/versions',
      summary: 'History of a storage, newest first',
      query: pageQuery,
      json: listVersionsResponse,
      responses: { 200: 'a page of history' },
      handle: (c, { params, query }) => versions.listVersions(c.var.tenant, params.storage, query),
    }),
    route({
      method: 'get',
      path: '/v1/storages/{storage}/versions/{ref}',
      summary: 'A version by "latest", full id or unique prefix, with download URLs',
      json: versionDetailSchema,
      responses: { 200: 'the version' },
      handle: (c, { params }) => versions.getVersion(c.var.tenant, params.storage, params.ref),
    }),
    route({
      method: 'post',
      path: '/v1/storages/{storage}/versions/{ref}/plan',
      summary: 'Reconstruction plan: coalesced pack ranges of the given chunks',
      capped: true,
      body: planRequest,
      json: planResponse,
      responses: { 200: 'the plan' },
      handle: (c, { params, body }) =>
        plans.plan(c.var.tenant, params.storage, params.ref, body.digests),
    }),
    route({
      method: 'post',
      path: '/v1/storages/{storage}/versions/{ref}/missing-packs',
      summary:
        'Report packs that answered 404; the server checks the object store and marks the absent ones missing',
      capped: true,
      body: missingPacksRequest,
      json: missingPacksResponse,
      responses: { 200: 'the packs really gone' },
      handle: (c, { params, body }) =>
        plans.checkMissingPacks(c.var.tenant, params.storage, params.ref, body.packs),
    }),
    route({
      method: 'get',
      path: '/v1/storages/{storage}/versions/{ref}/manifest-delta',
      summary: 'The manifest of a version as a delta against a version the client holds',
      capped: true,
      query: manifestDeltaQuery,
      responses: {
        200: 'application/octet-stream: the manifest delta (docs/formats.md) as zstd frames; X-Trove-Version names the version. Computed once per pair, then answered from a stored copy',
      },
      errors: {
        422: 'delta_too_large: a manifest is over TROVE_DELTA_MAX_MANIFEST_BYTES or the delta would not pay; fetch the whole manifest',
      },
      handle: async (c, { params, query }) => {
        const { ref } = params;
        const delta = await readManifestDelta(deps, c.var.tenant, params.storage, ref, query.base);
        // Bytes, not JSON: a delta is bounded (manifest-delta-read.ts) and a presigned
        // detour would cost a round trip; repeats are read back from the delta cache.
        return c.body(new Uint8Array(delta.bytes), 200, {
          'content-type': 'application/octet-stream',
          'content-length': String(delta.bytes.length),
          [MANIFEST_DELTA_VERSION_HEADER]: delta.version,
          // The answer for two full ids never changes, so a cache in front may keep it.
          ...(ref === delta.version
            ? { 'cache-control': 'private, max-age=86400, immutable' }
            : {}),
        });
      },
    }),
    route({
      method: 'post',
      path: '/v1/storages/{storage}/uploads',
      summary: 'Start a push (or record an existing version)',
      body: startUploadRequest,
      json: startUploadResponse,
      responses: { 200: 'the version already exists', 201: 'upload session opened' },
      handle: (c, { params, body }) => uploads.startUpload(c.var.tenant, params.storage, body),
      status: (answer) => (answer.status === 'open' ? 201 : 200),
    }),
    route({
      method: 'post',
      path: '/v1/uploads/{session}/missing',
      summary: 'Which of these chunks the tenant lacks',
      capped: true,
      body: missingChunksRequest,
      json: missingChunksResponse,
      responses: { 200: 'missing digests' },
      handle: (c, { params, body }) =>
        uploads.missingChunks(c.var.tenant, params.session, body.digests),
    }),
    route({
      method: 'post',
      path: '/v1/uploads/{session}/packs',
      summary: 'Declare packs and get presigned PUTs',
      body: presignPacksRequest,
      json: presignPacksResponse,
      responses: { 200: 'one PUT per pack' },
      handle: (c, { params, body }) =>
        uploads.presignPacks(c.var.tenant, params.session, body.packs),
    }),
    route({
      method: 'post',
      path: '/v1/uploads/{session}/commit',
      summary: 'Verify and commit (call again while it answers 202)',
      capped: true,
      json: commitResponse,
      responses: {
        200: 'committed',
        202: 'verification continues (byte, entry and chunk-ref budgets per call); call again',
      },
      errors: {
        422: 'rejected data, e.g. missing_chunks (answered again from the session until its packs change)',
      },
      handle: async (c, { params }) =>
        commitBody(await commits.commit(c.var.tenant, params.session)),
      status: (answer) => (answer.status === 'verifying' ? 202 : 200),
    }),
  ];
}
