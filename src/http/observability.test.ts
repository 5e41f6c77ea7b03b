import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localBlobRoutes } from '../adapters/blob/local/routes.js';
import { openPgliteStore } from '../adapters/metadata/pglite.js';
import { TroveError } from '../errors.js';
import { captureLogs } from '../observability/logger.js';
import { createMetrics } from '../observability/metrics.js';
import type { BlobStore } from '../ports/blob-store.js';
import { buildTree, call, type Harness, makeHarness, push } from '../testing/http-harness.js';
import { createApp } from './app.js';

let h: Harness;
beforeAll(async () => {
  h = await makeHarness();
});
afterAll(async () => {
  await h?.close();
});

/** An app over the harness backends with its own metrics and captured logs. */
function observedApp(overrides: { blobs?: BlobStore; draining?: () => boolean } = {}) {
  const logs = captureLogs('info');
  const metrics = createMetrics();
  const app = createApp({
    metadata: h.metadata,
    blobs: overrides.blobs ?? h.blobs,
    queue: h.queue,
    config: h.config,
    blobRoutes: h.local ? localBlobRoutes(h.local) : undefined,
    logger: logs.logger,
    metrics,
    draining: overrides.draining,
    readyTimeoutMs: 200,
  });
  return { app, logs, metrics };
}

/** The value of one exposition line, e.g. sample(text, 'trove_commits_total{outcome="created"}'). */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  if (!line) throw new Error(`no series ${series} in:\n${text}`);
  return Number(line.slice(series.length + 1));
}

describe('/metrics', () => {
  it('reports requests, commits, dedup and queued jobs after real pushes', async () => {
    const { app } = observedApp();
    const shared = randomBytes(256 * 1024);
    const v1 = buildTree({ 'data.bin': shared, 'a.txt': 'one\n' });
    const v2 = buildTree({ 'data.bin': shared, 'a.txt': 'two\n', 'b.txt': 'new\n' });
    expect((await push(app, 'obs', v1)).commit?.status).toBe(200);
    expect((await push(app, 'obs', v2, { parent: v1.id })).commit?.status).toBe(200);

    const res = await app.request('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    const route = 'route="/v1/storages/:storage/uploads"';
    expect(sample(text, `trove_http_requests_total{method="POST",${route},status="201"}`)).toBe(2);
    expect(text).toMatch(/trove_http_request_duration_seconds_bucket\{le="0\.005",method="POST"/);
    expect(sample(text, 'trove_commits_total{outcome="created"}')).toBe(2);
    const logical = sample(text, 'trove_push_logical_bytes_total');
    const uploaded = sample(text, 'trove_push_uploaded_bytes_total');
    expect(logical).toBe(2 * shared.length + 4 + 4 + 4);
    // The second push shares data.bin, so about half of all logical bytes were never uploaded.
    const ratio = sample(text, 'trove_dedup_ratio');
    expect(ratio).toBeCloseTo(1 - uploaded / logical, 6);
    expect(ratio).toBeGreaterThan(0.4);
    expect(ratio).toBeLessThan(0.6);
    expect(sample(text, 'trove_jobs{queue="materialize",state="created"}')).toBeGreaterThanOrEqual(
      1,
    );
    expect(text).toContain('trove_process_cpu_user_seconds_total');
    expect(text).toContain('trove_nodejs_eventloop_lag_seconds');
  });

  it('keeps each app’s metrics apart (per-app registry)', async () => {
    const a = observedApp();
    const b = observedApp();
    await a.app.request('/healthz');
    const text = await (await b.app.request('/metrics')).text();
    expect(text).not.toContain('route="/healthz"');
    expect(await a.metrics.registry.metrics()).toContain('route="/healthz",status="200"} 1');
  });
});

describe('/healthz and /readyz', () => {
  it('answers ready with healthy backends', async () => {
    const { app } = observedApp();
    expect((await call(app, 'GET', '/healthz')).json).toEqual({ ok: true });
    const ready = await call(app, 'GET', '/readyz');
    expect(ready).toEqual({
      status: 200,
      json: { ok: true, checks: { database: 'ok', blobs: 'ok' } },
    });
  });

  it('answers 503 naming the database when its connection is closed', async () => {
    const { store } = await openPgliteStore();
    await store.close();
    const app = createApp({ ...h, metadata: store, logger: captureLogs('error').logger });
    const ready = await call(app, 'GET', '/readyz');
    expect(ready.status).toBe(503);
    expect(ready.json.ok).toBe(false);
    expect(ready.json.checks).toEqual({
      database: expect.stringMatching(/failed|timeout/),
      blobs: 'ok',
    });
    expect(typeof ready.json.reasons.database).toBe('string');
    expect(ready.json.reasons.blobs).toBeUndefined();
  });

  it('answers 503 with a redacted reason when the blob store fails, and logs it', async () => {
    const failing: BlobStore = {
      ...h.blobs,
      ping: async () => {
        throw new TroveError('unavailable', 'cannot reach https://key:s3cr3t@minio:9000/bucket');
      },
    };
    const { app, logs } = observedApp({ blobs: failing });
    const ready = await call(app, 'GET', '/readyz');
    expect(ready.status).toBe(503);
    expect(ready.json).toEqual({
      ok: false,
      checks: { database: 'ok', blobs: 'failed' },
      reasons: { blobs: 'cannot reach https://key:[redacted]@minio:9000/bucket' },
    });
    expect(logs.events().find((e) => e.msg === 'not ready')).toMatchObject({ level: 'warn' });
    expect(logs.lines.join('\n')).not.toContain('s3cr3t');
  });

  it('answers 503 timeout when a ping hangs, within the configured timeout', async () => {
    const hanging: BlobStore = { ...h.blobs, ping: () => new Promise<void>(() => {}) };
    const { app } = observedApp({ blobs: hanging });
    const started = Date.now();
    const ready = await call(app, 'GET', '/readyz');
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(ready.status).toBe(503);
    expect(ready.json.checks).toEqual({ database: 'ok', blobs: 'timeout' });
  });

  it('answers 503 draining once shutdown begins, while liveness stays 200', async () => {
    let draining = false;
    const { app } = observedApp({ draining: () => draining });
    expect((await call(app, 'GET', '/readyz')).status).toBe(200);
    draining = true;
    expect(await call(app, 'GET', '/readyz')).toEqual({
      status: 503,
      json: { ok: false, draining: true, checks: {} },
    });
    expect((await call(app, 'GET', '/healthz')).status).toBe(200);
  });
});
