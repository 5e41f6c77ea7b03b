import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import {
  LIMITS,
  MANIFEST_DELTA_VERSION_HEADER,
  manifestDeltaQuery,
  missingChunksRequest,
  missingPacksRequest,
  planRequest,
  presignPacksRequest,
  startUploadRequest,
  storageNameSchema,
  versionRefSchema,
} from '../api/schemas.js';
import { TroveError } from '../errors.js';
import { CommitService } from '../services/commit.js';
import type { ServiceDeps } from '../services/deps.js';
import { readManifestDelta } from '../services/manifest-delta-read.js';
import { PlanService } from '../services/plan.js';
import { UploadService } from '../services/upload.js';
import { VersionService } from '../services/versions.js';
import { concurrencyCap } from './concurrency.js';
import type { AppEnv } from './env.js';
import { jsonBody, param } from './validate.js';

/** Query of paged lists. */
export const pageQuery = z.object({
  cursor: z.string().max(512).optional(),
  limit: z.coerce.number().int().min(1).max(LIMITS.maxPageSize).optional(),
});

/** Path parameter of an upload session. */
export const sessionIdSchema = z.string().uuid();

const limitBody = bodyLimit({
  maxSize: LIMITS.maxBodyBytes,
  onError: (c) =>
    c.json(
      new TroveError(
        'payload_too_large',
        `request body is larger than ${LIMITS.maxBodyBytes} bytes`,
        { limit: LIMITS.maxBodyBytes },
      ).toJSON(),
      413,
    ),
});

/**
 * The v1 JSON routes (see src/api/schemas.ts for the contract). Each handler
 * validates its input, calls one service method and returns its typed result.
 */
export function v1Routes(deps: ServiceDeps): Hono<AppEnv> {
  const uploads = new UploadService(deps);
  const commits = new CommitService(deps);
  const versions = new VersionService(deps);
  const plans = new PlanService(deps);
  const app = new Hono<AppEnv>();
  const storageOf = (v: string | undefined) => param('storage name', storageNameSchema, v);
  // One counter for every route whose work is CPU or index heavy (bounded, but not small).
  const capped = concurrencyCap(deps.config.maxExpensiveRequests);

  app.get('/storages', async (c) => {
    const q = param('query', pageQuery, c.req.query());
    return c.json(await versions.listStorages(c.var.tenant, q));
  });

  app.get('/storages/:storage', async (c) => {
    return c.json(await versions.getStorage(c.var.tenant, storageOf(c.req.param('storage'))));
  });

  app.get('/storages/:storage/versions', async (c) => {
    const q = param('query', pageQuery, c.req.query());
    const storage = storageOf(c.req.param('storage'));
    return c.json(await versions.listVersions(c.var.tenant, storage, q));
  });

  app.get('/storages/:storage/versions/:ref', async (c) => {
    const storage = storageOf(c.req.param('storage'));
    const ref = param('version reference', versionRefSchema, c.req.param('ref'));
    return c.json(await versions.getVersion(c.var.tenant, storage, ref));
  });

  app.post('/storages/:storage/versions/:ref/plan', capped, limitBody, async (c) => {
    const storage = storageOf(c.req.param('storage'));
    const ref = param('version reference', versionRefSchema, c.req.param('ref'));
    const body = await jsonBody(c, planRequest);
    return c.json(await plans.plan(c.var.tenant, storage, ref, body.digests));
  });

  app.post('/storages/:storage/versions/:ref/missing-packs', capped, limitBody, async (c) => {
    const storage = storageOf(c.req.param('storage'));
    const ref = param('version reference', versionRefSchema, c.req.param('ref'));
    const body = await jsonBody(c, missingPacksRequest);
    return c.json(await plans.checkMissingPacks(c.var.tenant, storage, ref, body.packs));
  });

  app.get('/storages/:storage/versions/:ref/manifest-delta', capped, async (c) => {
    const storage = storageOf(c.req.param('storage'));
    const ref = param('version reference', versionRefSchema, c.req.param('ref'));
    const { base } = param('query', manifestDeltaQuery, c.req.query());
    const delta = await readManifestDelta(deps, c.var.tenant, storage, ref, base);
    // Bytes, not JSON: a delta is bounded (manifest-delta-read.ts) and a presigned
    // detour would cost a round trip; repeats are read back from the delta cache.
    return c.body(new Uint8Array(delta.bytes), 200, {
      'content-type': 'application/octet-stream',
      'content-length': String(delta.bytes.length),
      [MANIFEST_DELTA_VERSION_HEADER]: delta.version,
      // The answer for two full ids never changes, so a cache in front may keep it.
      ...(ref === delta.version ? { 'cache-control': 'private, max-age=86400, immutable' } : {}),
    });
  });

  app.post('/storages/:storage/uploads', limitBody, async (c) => {
    const storage = storageOf(c.req.param('storage'));
    const body = await jsonBody(c, startUploadRequest);
    const result = await uploads.startUpload(c.var.tenant, storage, body);
    return c.json(result, result.status === 'open' ? 201 : 200);
  });

  app.post('/uploads/:session/missing', capped, limitBody, async (c) => {
    const session = param('session id', sessionIdSchema, c.req.param('session'));
    const body = await jsonBody(c, missingChunksRequest);
    return c.json(await uploads.missingChunks(c.var.tenant, session, body.digests));
  });

  app.post('/uploads/:session/packs', limitBody, async (c) => {
    const session = param('session id', sessionIdSchema, c.req.param('session'));
    const body = await jsonBody(c, presignPacksRequest);
    return c.json(await uploads.presignPacks(c.var.tenant, session, body.packs));
  });

  app.post('/uploads/:session/commit', capped, limitBody, async (c) => {
    const session = param('session id', sessionIdSchema, c.req.param('session'));
    const result = await commits.commit(c.var.tenant, session);
    return c.json(result.body, result.status);
  });

  return app;
}
