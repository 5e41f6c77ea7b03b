import { z } from 'zod';
import { errorBodySchema } from '../api/schemas.js';
import { ERROR_CODES } from '../errors.js';
import { PATH_PARAMS, pathParams, type Route } from './route-table.js';

type Json = Record<string, unknown>;

/** The answer of a capped route when the process is busy (src/http/concurrency.ts). */
const BUSY_DESCRIPTION =
  'busy: this process serves TROVE_MAX_EXPENSIVE_REQUESTS expensive requests already; retry after Retry-After seconds';

function schemaOf(schema: z.ZodType, io: 'input' | 'output'): Json {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, {
    io,
    target: 'draft-2020-12',
    unrepresentable: 'any',
  }) as Json;
  return rest;
}

function jsonContent(schema: z.ZodType): Json {
  return { content: { 'application/json': { schema: schemaOf(schema, 'output') } } };
}

function operation(route: Route): Json {
  const parameters: Json[] = [];
  for (const name of pathParams(route.path)) {
    const schema = PATH_PARAMS[name]?.schema ?? z.string();
    parameters.push({ name, in: 'path', required: true, schema: schemaOf(schema, 'input') });
  }
  const query = route.query instanceof z.ZodObject ? route.query.shape : {};
  for (const [name, schema] of Object.entries(query)) {
    parameters.push({
      name,
      in: 'query',
      required: !(schema as z.ZodType).safeParse(undefined).success,
      schema: schemaOf(schema as z.ZodType, 'input'),
    });
  }
  const responses: Json = {};
  for (const [status, description] of Object.entries(route.responses)) {
    responses[status] = { description, ...(route.json ? jsonContent(route.json) : {}) };
  }
  for (const [status, description] of Object.entries(route.errors ?? {})) {
    responses[status] = { description, ...jsonContent(errorBodySchema) };
  }
  if (route.capped) {
    responses[429] = {
      description: BUSY_DESCRIPTION,
      headers: {
        'Retry-After': {
          description: 'seconds to wait before retrying',
          schema: { type: 'integer' },
        },
      },
      ...jsonContent(errorBodySchema),
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

/**
 * The OpenAPI 3.1 document of the app's routes, generated from the same
 * table entries the app registers and the zod schemas of src/api/schemas.ts.
 */
export function openApiDocument(routes: Route[]): Json {
  const paths: Record<string, Json> = {};
  for (const route of routes) {
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
