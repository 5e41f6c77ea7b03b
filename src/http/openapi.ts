import { z } from 'zod';
import {
  commitResponse,
  errorBodySchema,
  listStoragesResponse,
  listVersionsResponse,
  manifestDeltaQuery,
  missingChunksRequest,
  missingChunksResponse,
  missingPacksRequest,
  missingPacksResponse,
  planRequest,
  planResponse,
  presignPacksRequest,
  presignPacksResponse,
  startUploadRequest,
  startUploadResponse,
  storageNameSchema,
  storageSchema,
  versionDetailSchema,
  versionRefSchema,
} from '../api/schemas.js';
import { ERROR_CODES } from '../errors.js';
import { pageQuery, sessionIdSchema } from './routes.js';

type Json = Record<string, unknown>;

/** One route of the document: everything else is derived from the zod schemas. */
interface RouteSpec {
  method: 'get' | 'post';
  path: string;
  summary: string;
  params?: Record<string, z.ZodType>;
  query?: z.ZodObject;
  body?: z.ZodType;
  responses: Record<number, ResponseSpec>;
}

/** One documented answer of a route. */
interface ResponseSpec {
  description: string;
  schema?: z.ZodType;
  /** Response headers by name, described. */
  headers?: Record<string, string>;
}

/** The answer of a capped route when the process is busy (src/http/concurrency.ts). */
const BUSY: Record<number, ResponseSpec> = {
  429: {
    description:
      'busy: this process serves TROVE_MAX_EXPENSIVE_REQUESTS expensive requests already; retry after Retry-After seconds',
    schema: errorBodySchema,
    headers: { 'Retry-After': 'seconds to wait before retrying' },
  },
};

function schemaOf(schema: z.ZodType, io: 'input' | 'output'): Json {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, {
    io,
    target: 'draft-2020-12',
    unrepresentable: 'any',
  }) as Json;
  return rest;
}

const checkState = z.enum(['ok', 'failed', 'timeout']);
const readinessSchema = z.object({
  ok: z.boolean(),
  draining: z.literal(true).optional(),
  checks: z.object({ database: checkState.optional(), blobs: checkState.optional() }),
  reasons: z.object({ database: z.string().optional(), blobs: z.string().optional() }).optional(),
});

const ROUTES: RouteSpec[] = [
  {
    method: 'get',
    path: '/healthz',
    summary: 'Liveness probe',
    responses: { 200: { description: 'alive', schema: z.object({ ok: z.literal(true) }) } },
  },
  {
    method: 'get',
    path: '/readyz',
    summary: 'Readiness probe: database and object storage reachable, not shutting down',
    responses: {
      200: { description: 'ready', schema: readinessSchema },
      503: { description: 'not ready (a check failed, or draining)', schema: readinessSchema },
    },
  },
  {
    method: 'get',
    path: '/metrics',
    summary: 'Prometheus metrics (text exposition format)',
    responses: { 200: { description: 'metrics, see docs/observability.md' } },
  },
  {
    method: 'get',
    path: '/openapi.json',
    summary: 'This document',
    responses: { 200: { description: 'OpenAPI 3.1 document' } },
  },
  {
    method: 'get',
    path: '/v1/storages',
    summary: 'List storages by name',
    query: pageQuery,
    responses: { 200: { description: 'a page of storages', schema: listStoragesResponse } },
  },
  {
    method: 'get',
    path: '/v1/storages/{storage}',
    summary: 'One storage',
    params: { storage: storageNameSchema },
    responses: { 200: { description: 'the storage', schema: storageSchema } },
  },
  {
    method: 'get',
    path: '/v1/storages/{storage}/versions',
    summary: 'History of a storage, newest first',
    params: { storage: storageNameSchema },
    query: pageQuery,
    responses: { 200: { description: 'a page of history', schema: listVersionsResponse } },
  },
  {
    method: 'get',
    path: '/v1/storages/{storage}/versions/{ref}',
    summary: 'A version by "latest", full id or unique prefix, with download URLs',
    params: { storage: storageNameSchema, ref: versionRefSchema },
    responses: { 200: { description: 'the version', schema: versionDetailSchema } },
  },
  {
    method: 'post',
    path: '/v1/storages/{storage}/versions/{ref}/plan',
    summary: 'Reconstruction plan: coalesced pack ranges of the given chunks',
    params: { storage: storageNameSchema, ref: versionRefSchema },
    body: planRequest,
    responses: { 200: { description: 'the plan', schema: planResponse }, ...BUSY },
  },
  {
    method: 'post',
    path: '/v1/storages/{storage}/versions/{ref}/missing-packs',
    summary:
      'Report packs that answered 404; the server checks the object store and marks the absent ones missing',
    params: { storage: storageNameSchema, ref: versionRefSchema },
    body: missingPacksRequest,
    responses: { 200: { description: 'the packs really gone', schema: missingPacksResponse } },
  },
  {
    method: 'get',
    path: '/v1/storages/{storage}/versions/{ref}/manifest-delta',
    summary: 'The manifest of a version as a delta against a version the client holds',
    params: { storage: storageNameSchema, ref: versionRefSchema },
    query: manifestDeltaQuery,
    responses: {
      200: {
        description:
          'application/octet-stream: the manifest delta (docs/formats.md) as zstd frames; X-Trove-Version names the version. Computed once per pair, then answered from a stored copy',
      },
      422: {
        description:
          'delta_too_large: a manifest is over TROVE_DELTA_MAX_MANIFEST_BYTES or the delta would not pay; fetch the whole manifest',
        schema: errorBodySchema,
      },
      ...BUSY,
    },
  },
  {
    method: 'post',
    path: '/v1/storages/{storage}/uploads',
    summary: 'Start a push (or record an existing version)',
    params: { storage: storageNameSchema },
    body: startUploadRequest,
    responses: {
      200: { description: 'the version already exists', schema: startUploadResponse },
      201: { description: 'upload session opened', schema: startUploadResponse },
    },
  },
  {
    method: 'post',
    path: '/v1/uploads/{session}/missing',
    summary: 'Which of these chunks the tenant lacks',
    params: { session: sessionIdSchema },
    body: missingChunksRequest,
    responses: { 200: { description: 'missing digests', schema: missingChunksResponse }, ...BUSY },
  },
  {
    method: 'post',
    path: '/v1/uploads/{session}/packs',
    summary: 'Declare packs and get presigned PUTs',
    params: { session: sessionIdSchema },
    body: presignPacksRequest,
    responses: { 200: { description: 'one PUT per pack', schema: presignPacksResponse } },
  },
  {
    method: 'post',
    path: '/v1/uploads/{session}/commit',
    summary: 'Verify and commit (call again while it answers 202)',
    params: { session: sessionIdSchema },
    responses: {
      200: { description: 'committed', schema: commitResponse },
      202: {
        description:
          'verification continues (byte, entry and chunk-ref budgets per call); call again',
        schema: commitResponse,
      },
      422: {
        description:
          'rejected data, e.g. missing_chunks (answered again from the session until its packs change)',
        schema: errorBodySchema,
      },
      ...BUSY,
    },
  },
];

function operation(route: RouteSpec): Json {
  const parameters: Json[] = [];
  for (const [name, schema] of Object.entries(route.params ?? {})) {
    parameters.push({ name, in: 'path', required: true, schema: schemaOf(schema, 'input') });
  }
  for (const [name, schema] of Object.entries(route.query?.shape ?? {})) {
    parameters.push({
      name,
      in: 'query',
      required: !(schema as z.ZodType).safeParse(undefined).success,
      schema: schemaOf(schema as z.ZodType, 'input'),
    });
  }
  const responses: Json = {};
  for (const [status, r] of Object.entries(route.responses)) {
    responses[status] = {
      description: r.description,
      ...(r.headers
        ? {
            headers: Object.fromEntries(
              Object.entries(r.headers).map(([name, description]) => [
                name,
                { description, schema: { type: 'integer' } },
              ]),
            ),
          }
        : {}),
      ...(r.schema
        ? { content: { 'application/json': { schema: schemaOf(r.schema, 'output') } } }
        : {}),
    };
  }
  responses.default = {
    description: `error (codes: ${Object.keys(ERROR_CODES).join(', ')})`,
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
  };
  return {
    summary: route.summary,
    operationId: `${route.method}${route.path.replace(/[^A-Za-z0-9]+(.)?/g, (_m, ch: string | undefined) => (ch ?? '').toUpperCase())}`,
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(route.body
      ? {
          requestBody: {
            required: true,
            content: { 'application/json': { schema: schemaOf(route.body, 'input') } },
          },
        }
      : {}),
    responses,
  };
}

/** The OpenAPI 3.1 document of the v1 API, generated from src/api/schemas.ts. */
export function openApiDocument(): Json {
  const paths: Record<string, Json> = {};
  for (const route of ROUTES) {
    paths[route.path] = { ...paths[route.path], [route.method]: operation(route) };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'trove',
      version: '1',
      description:
        'Versioned directory trees in object storage. Bytes never go through this API: packs, manifests and archives move through presigned URLs.',
    },
    paths,
    components: { schemas: { Error: schemaOf(errorBodySchema, 'output') } },
  };
}
