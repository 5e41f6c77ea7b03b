import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TroveClient } from './api-client.js';
import { pull } from './pull/pull.js';
import { push } from './push.js';

/**
 * A real HTTP server that is always busy: every API call answers 503 with
 * Retry-After: 30, so the client's retry loop waits 30 s between attempts.
 * An abort must cut those waits short.
 */
describe('abort during retry back-off', () => {
  let server: Server;
  let base = '';
  let tmp = '';
  let calls = 0;

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'trove-abort-'));
    await mkdir(join(tmp, 'tree'), { recursive: true });
    await writeFile(join(tmp, 'tree', 'a.txt'), 'hello\n');
    server = createServer((req, res) => {
      calls++;
      req.resume();
      req.on('end', () => {
        res
          .writeHead(503, { 'content-type': 'application/json', 'retry-after': '30' })
          .end(JSON.stringify({ error: { code: 'unavailable', message: 'busy' } }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    await rm(tmp, { recursive: true, force: true });
  });

  /** Aborts after the first 503 has been answered (the client is then waiting to retry). */
  async function abortWhileRetrying(run: (signal: AbortSignal) => Promise<unknown>) {
    const before = calls;
    const ac = new AbortController();
    const started = performance.now();
    const result = run(ac.signal).then(
      () => null,
      (err: unknown) => err,
    );
    while (calls === before) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 50));
    ac.abort();
    const err = await result;
    return { err, ms: performance.now() - started, calls: calls - before };
  }

  it('push ends promptly with the abort error instead of waiting out Retry-After', async () => {
    const client = new TroveClient({ baseUrl: base });
    const r = await abortWhileRetrying((signal) =>
      push({ client, storage: 's', dir: join(tmp, 'tree'), signal }),
    );
    expect((r.err as Error | null)?.name).toBe('AbortError');
    expect(r.ms).toBeLessThan(3000);
    expect(r.calls).toBe(1);
  }, 10_000);

  it('push with an explicit parent aborts in the upload call the same way', async () => {
    const client = new TroveClient({ baseUrl: base });
    const r = await abortWhileRetrying((signal) =>
      push({ client, storage: 's', dir: join(tmp, 'tree'), parent: null, signal }),
    );
    expect((r.err as Error | null)?.name).toBe('AbortError');
    expect(r.ms).toBeLessThan(3000);
    expect(r.calls).toBe(1);
  }, 10_000);

  it('pull ends promptly with the abort error', async () => {
    const client = new TroveClient({ baseUrl: base });
    const r = await abortWhileRetrying((signal) =>
      pull({ client, storage: 's', target: join(tmp, 'out'), signal }),
    );
    expect((r.err as Error | null)?.name).toBe('AbortError');
    expect(r.ms).toBeLessThan(3000);
    expect(r.calls).toBe(1);
  }, 10_000);
});
