import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type Harness, makeHarness } from '../testing/http-harness.js';
import { createApp } from './app.js';

let h: Harness;
beforeAll(async () => {
  h = await makeHarness();
});
afterAll(async () => {
  await h?.close();
});

/** Routes released clients call: removing one is a breaking change, so the app must serve each. */
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

/** An error answer's body. */
interface ErrorBody {
  error: { code: string };
}

/** The routes that go through the concurrency cap (429 busy); every other route never answers busy. */
const CAPPED = [
  ['post', '/v1/storages/{storage}/versions/{ref}/plan'],
  ['post', '/v1/storages/{storage}/versions/{ref}/missing-packs'],
  ['get', '/v1/storages/{storage}/versions/{ref}/manifest-delta'],
  ['post', '/v1/uploads/{session}/missing'],
  ['post', '/v1/uploads/{session}/commit'],
].map(([method, path]) => `${method} ${path}`);

/**
 * What the app really registered (Hono's `app.routes`), as "method /path/{param}":
 * middleware (`app.use`, method ALL) aside, and the local blob store's signed
 * URLs (wildcard routes, embedded mode only), which are not part of the API.
 */
function registered(app: Harness['app']): string[] {
  const routes = new Set<string>();
  for (const r of app.routes) {
    if (r.method === 'ALL' || r.path.includes('*')) continue;
    routes.add(`${r.method.toLowerCase()} ${r.path.replace(/:(\w+)/g, '{$1}')}`);
  }
  return [...routes].sort();
}

/** Every operation of the document, as "method /path/{param}". */
function documented(doc: { paths: Record<string, Record<string, unknown>> }): string[] {
  return Object.entries(doc.paths)
    .flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method} ${path}`))
    .sort();
}

/** A concrete URL for a documented path (valid parameters, nothing behind them). */
function concrete(path: string): string {
  return path
    .replace('{storage}', 'nothing-here')
    .replace('{ref}', 'latest')
    .replace('{session}', '00000000-0000-4000-8000-000000000000');
}

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
    // The document and the app's real routes are the same set: a route added to
    // one without the other fails here.
    expect(documented(doc)).toEqual(registered(h.app));
    for (const [method, path] of ROUTES) expect(registered(h.app)).toContain(`${method} ${path}`);
    const start = doc.paths['/v1/storages/{storage}/uploads'].post;
    expect(start.requestBody.content['application/json'].schema.required).toContain('version');
    expect(Object.keys(start.responses)).toEqual(expect.arrayContaining(['200', '201']));
    expect(doc.components.schemas.Error.properties.error).toBeDefined();
  });

  it('documents 429 busy exactly on the routes that answer it', async () => {
    const doc = JSON.parse(await (await h.app.request('/openapi.json')).text());
    const busyDocumented = documented(doc).filter((op) => {
      const [method = '', path = ''] = op.split(' ');
      const r = doc.paths[path][method].responses['429'];
      if (r) expect(r.headers['Retry-After'], op).toBeDefined();
      return r !== undefined;
    });
    expect(busyDocumented).toEqual([...CAPPED].sort());
    // An app with no room for expensive work answers busy on exactly those routes.
    const full = createApp({ ...h, config: { ...h.config, maxExpensiveRequests: 0 } });
    for (const op of documented(doc)) {
      const [method = '', path = ''] = op.split(' ');
      const res = await full.request(concrete(path), {
        method: method.toUpperCase(),
        ...(method === 'post'
          ? { body: '{}', headers: { 'content-type': 'application/json' } }
          : {}),
      });
      expect(res.status === 429, `${op} answered ${res.status}`).toBe(CAPPED.includes(op));
      if (res.status === 429) expect(((await res.json()) as ErrorBody).error.code).toBe('busy');
    }
  });

  it('answers unknown routes with the error body', async () => {
    const res = await call(h.app, 'GET', '/v1/nothing');
    expect(res.status).toBe(404);
    expect(res.json.error.code).toBe('route_not_found');
  });
});
