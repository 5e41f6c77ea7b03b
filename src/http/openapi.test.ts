import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type Harness, makeHarness } from './test-support.js';

let h: Harness;
beforeAll(async () => {
  h = await makeHarness();
});
afterAll(async () => {
  await h?.close();
});

const ROUTES = [
  ['get', '/healthz'],
  ['get', '/readyz'],
  ['get', '/metrics'],
  ['get', '/openapi.json'],
  ['get', '/v1/storages'],
  ['get', '/v1/storages/{storage}'],
  ['get', '/v1/storages/{storage}/versions'],
  ['get', '/v1/storages/{storage}/versions/{ref}'],
  ['post', '/v1/storages/{storage}/versions/{ref}/plan'],
  ['post', '/v1/storages/{storage}/versions/{ref}/missing-packs'],
  ['get', '/v1/storages/{storage}/versions/{ref}/manifest-delta'],
  ['post', '/v1/storages/{storage}/uploads'],
  ['post', '/v1/uploads/{session}/missing'],
  ['post', '/v1/uploads/{session}/packs'],
  ['post', '/v1/uploads/{session}/commit'],
] as const;

describe('service endpoints', () => {
  it('GET /healthz answers ok', async () => {
    expect(await call(h.app, 'GET', '/healthz')).toEqual({ status: 200, json: { ok: true } });
  });

  it('GET /openapi.json lists every route with parameters, bodies and responses', async () => {
    const res = await h.app.request('/openapi.json');
    expect(res.status).toBe(200);
    const doc = JSON.parse(await res.text());
    expect(doc.openapi).toBe('3.1.0');
    for (const [method, path] of ROUTES) {
      const op = doc.paths[path]?.[method];
      expect(op, `${method} ${path}`).toBeDefined();
      expect(op.responses.default.content['application/json'].schema.$ref).toBe(
        '#/components/schemas/Error',
      );
      const names = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      expect(
        (op.parameters ?? [])
          .filter((p: { in: string }) => p.in === 'path')
          .map((p: { name: string }) => p.name),
      ).toEqual(names);
    }
    const start = doc.paths['/v1/storages/{storage}/uploads'].post;
    expect(start.requestBody.content['application/json'].schema.required).toContain('version');
    expect(Object.keys(start.responses)).toEqual(expect.arrayContaining(['200', '201']));
    expect(doc.components.schemas.Error.properties.error).toBeDefined();
  });

  it('answers unknown routes with the error body', async () => {
    const res = await call(h.app, 'GET', '/v1/nothing');
    expect(res.status).toBe(404);
    expect(res.json.error.code).toBe('route_not_found');
  });
});
