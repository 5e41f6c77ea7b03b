import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import type { AppEnv } from '../http/env.js';
import { errorResponse, notFoundResponse } from '../http/errors.js';
import { REQUEST_ID_HEADER, requestIdFrom, requestObservability, UNMATCHED_ROUTE } from './http.js';
import { captureLogs } from './logger.js';
import { createMetrics } from './metrics.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function makeApp() {
  const logs = captureLogs('debug');
  const metrics = createMetrics({ processMetrics: false });
  const app = new Hono<AppEnv>();
  app.onError(errorResponse);
  app.notFound(notFoundResponse);
  app.use('*', requestObservability({ logger: logs.logger, metrics }));
  app.use('*', async (c, next) => {
    c.set('tenant', 'acme');
    await next();
  });
  app.get('/items/:id', (c) => c.json({ id: c.req.param('id'), requestId: c.var.requestId }));
  app.post('/items', (c) => c.body(null, 204));
  app.get('/boom', () => {
    throw new Error('secret internals at postgres://u:pw@db/x');
  });
  app.get('/healthz', (c) => c.json({ ok: true }));
  return { app, logs, metrics };
}

describe('request ids', () => {
  it('echoes a sane caller id on the response and the context', async () => {
    const { app } = makeApp();
    const res = await app.request('/items/7', { headers: { [REQUEST_ID_HEADER]: 'lb-1.a:b_c-9' } });
    expect(res.headers.get(REQUEST_ID_HEADER)).toBe('lb-1.a:b_c-9');
    expect(await res.json()).toEqual({ id: '7', requestId: 'lb-1.a:b_c-9' });
  });

  it('replaces an id that is too long or has unsafe characters', async () => {
    const { app } = makeApp();
    for (const bad of ['a'.repeat(129), 'x y', 'a\u00e9', '{"level":"error"}', '']) {
      const res = await app.request('/items/1', { headers: { [REQUEST_ID_HEADER]: bad } });
      expect(res.headers.get(REQUEST_ID_HEADER)).toMatch(UUID);
    }
    expect(requestIdFrom('a'.repeat(128))).toBe('a'.repeat(128));
  });

  it('generates a fresh id when none is given, also on 404 and 500 answers', async () => {
    const { app } = makeApp();
    const ids = new Set<string>();
    for (const path of ['/items/1', '/items/1', '/nowhere', '/boom']) {
      const id = (await app.request(path)).headers.get(REQUEST_ID_HEADER);
      expect(id).toMatch(UUID);
      ids.add(id as string);
    }
    expect(ids.size).toBe(4);
  });
});

describe('access log', () => {
  it('writes one line per request with route pattern, status, sizes, tenant and id', async () => {
    const { app, logs } = makeApp();
    await app.request('/items/42', { headers: { [REQUEST_ID_HEADER]: 'req-1' } });
    await app.request('/items', {
      method: 'POST',
      body: 'abcde',
      headers: { 'content-length': '5' },
    });
    const [get, post] = logs.events();
    expect(get).toMatchObject({
      level: 'info',
      msg: 'request',
      requestId: 'req-1',
      method: 'GET',
      route: '/items/:id',
      path: '/items/42',
      status: 200,
      tenant: 'acme',
      bytesIn: null,
    });
    expect(get?.bytesOut).toBeGreaterThan(0);
    expect(get?.durationMs).toBeGreaterThanOrEqual(0);
    expect(post).toMatchObject({ route: '/items', status: 204, bytesIn: 5, bytesOut: 0 });
  });

  it('labels unmatched paths as one route and logs probes at debug', async () => {
    const { app, logs } = makeApp();
    await app.request('/no/such/path');
    await app.request('/healthz');
    const [missing, probe] = logs.events();
    expect(missing).toMatchObject({ route: UNMATCHED_ROUTE, status: 404, path: '/no/such/path' });
    expect(probe).toMatchObject({ level: 'debug', route: '/healthz' });
  });

  it('logs an unhandled error once with the request id and stack, redacted, and answers 500', async () => {
    const { app, logs } = makeApp();
    const res = await app.request('/boom', { headers: { [REQUEST_ID_HEADER]: 'req-9' } });
    expect(res.status).toBe(500);
    const body = await res.json();
    expect(body).toEqual({
      error: {
        code: 'internal',
        message: 'internal server error',
        details: { requestId: 'req-9' },
      },
    });
    const [error, access] = logs.events() as Record<string, Record<string, unknown>>[];
    expect(error).toMatchObject({ level: 'error', msg: 'unhandled error', requestId: 'req-9' });
    expect(error?.err?.message).toBe('secret internals at postgres://u:[redacted]@db/x');
    expect(String(error?.err?.stack)).toContain('http.test.ts');
    expect(access).toMatchObject({ level: 'warn', msg: 'request', status: 500, route: '/boom' });
  });
});

describe('request metrics', () => {
  it('counts requests by method, route pattern and status, and bytes by route', async () => {
    const { app, metrics } = makeApp();
    await app.request('/items/1');
    await app.request('/items/2');
    await app.request('/x/y');
    await app.request('/items', {
      method: 'POST',
      body: 'abc',
      headers: { 'content-length': '3' },
    });
    const text = await metrics.registry.metrics();
    expect(text).toContain(
      'trove_http_requests_total{method="GET",route="/items/:id",status="200"} 2',
    );
    expect(text).toContain(
      'trove_http_requests_total{method="GET",route="unmatched",status="404"} 1',
    );
    expect(text).toContain('trove_http_request_bytes_total{route="/items"} 3');
    expect(text).toContain(
      'trove_http_request_duration_seconds_count{method="POST",route="/items"} 1',
    );
    expect(text).not.toContain('/items/1');
  });
});
