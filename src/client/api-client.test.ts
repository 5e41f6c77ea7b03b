import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TroveClient } from './api-client.js';

interface Seen {
  method: string;
  headers: IncomingMessage['headers'];
  bytes: number;
}

describe('TroveClient.send (presigned requests)', () => {
  let server: Server;
  let base = '';
  const seen: Seen[] = [];
  let races = 0;

  beforeAll(async () => {
    server = createServer((req, res) => {
      let bytes = 0;
      req.on('data', (d: Buffer) => {
        bytes += d.length;
      });
      req.on('end', () => {
        seen.push({ method: req.method ?? '', headers: req.headers, bytes });
        if (req.url === '/exists') res.writeHead(412).end('PreconditionFailed');
        else if (req.url === '/denied') res.writeHead(403).end('AccessDenied');
        else if (req.url === '/race') res.writeHead(++races === 1 ? 409 : 412).end();
        else res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const client = () => new TroveClient({ baseUrl: base, retries: 1 });
  const body = Buffer.alloc(1234, 7);
  const expiresAt = new Date(Date.now() + 60_000).toISOString();

  it('treats 412 on a conditional PUT as "already stored"', async () => {
    const res = await client().send(
      { method: 'PUT', url: `${base}/exists`, headers: { 'if-none-match': '*' }, expiresAt },
      { body: () => body },
    );
    expect(res.status).toBe(200);
    expect(seen.at(-1)?.headers['if-none-match']).toBe('*');
  });

  it('retries a PUT that lost a conditional-write race (409), then sees 412', async () => {
    const res = await new TroveClient({ baseUrl: base, retries: 3 }).send(
      { method: 'PUT', url: `${base}/race`, headers: { 'if-none-match': '*' }, expiresAt },
      { body: () => body },
    );
    expect(res.status).toBe(200);
    expect(races).toBe(2);
  });

  it('does not treat 412 on a GET, or 403 on a PUT, as success', async () => {
    await expect(
      client().send({ method: 'GET', url: `${base}/exists`, headers: {}, expiresAt }),
    ).rejects.toThrow(/412/);
    await expect(
      client().send(
        { method: 'PUT', url: `${base}/denied`, headers: {}, expiresAt },
        { body: () => body },
      ),
    ).rejects.toThrow(/403/);
  });

  it('sends the body length itself, even when the signed headers list content-length', async () => {
    await client().send(
      {
        method: 'PUT',
        url: `${base}/ok`,
        headers: { 'content-length': String(body.length), 'x-amz-checksum-sha256': 'abc=' },
        expiresAt,
      },
      { body: () => body },
    );
    const last = seen.at(-1);
    expect(last?.headers['content-length']).toBe(String(body.length));
    expect(last?.headers['x-amz-checksum-sha256']).toBe('abc=');
    expect(last?.bytes).toBe(body.length);
  });
});

describe('TroveClient on a busy server (429 + Retry-After)', () => {
  let server: Server;
  let base = '';
  const times: number[] = [];
  let busyFor = 0;

  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        times.push(performance.now());
        const headers = { 'content-type': 'application/json', 'retry-after': '1' };
        if (busyFor > 0) {
          busyFor--;
          const error = { code: 'busy', message: 'busy', details: { retryAfterSeconds: 1 } };
          res.writeHead(429, headers).end(JSON.stringify({ error }));
        } else if (req.url?.includes('manifest-delta')) {
          res.writeHead(429, { ...headers, 'retry-after': '30' }).end('{}');
        } else {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ missing: [] }));
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('waits Retry-After, then retries and succeeds', async () => {
    busyFor = 1;
    times.length = 0;
    const client = new TroveClient({ baseUrl: base, retries: 3 });
    await expect(client.missingChunks('s', [])).resolves.toEqual([]);
    expect(times).toHaveLength(2);
    // The backoff alone would retry after 50-150 ms; the server asked for a second.
    expect((times[1] ?? 0) - (times[0] ?? 0)).toBeGreaterThanOrEqual(950);
  });

  it('waits out a busy server beyond its attempts, within the busy budget', async () => {
    busyFor = 2;
    times.length = 0;
    const client = new TroveClient({ baseUrl: base, retries: 1 });
    await expect(client.missingChunks('s', [])).resolves.toEqual([]);
    expect(times).toHaveLength(3);
  });

  it('keeps the busy code when every attempt is refused', async () => {
    busyFor = 1;
    const client = new TroveClient({ baseUrl: base, retries: 1, busyWaitMs: 0 });
    await expect(client.missingChunks('s', [])).rejects.toMatchObject({ code: 'busy' });
  });

  it('stops waiting when aborted', async () => {
    const controller = new AbortController();
    const client = new TroveClient({ baseUrl: base, retries: 3 });
    const started = performance.now();
    const pending = client.getManifestDelta('s', 'v', 'b', controller.signal);
    setTimeout(() => controller.abort(), 200);
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    expect(performance.now() - started).toBeLessThan(25_000);
  });
});

describe('TroveClient on a full server (503 storage_full)', () => {
  let server: Server;
  let requests = 0;

  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        requests++;
        const error = { code: 'storage_full', message: 'the database disk is full' };
        res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ error }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('fails at once instead of retrying what a retry cannot fix', async () => {
    const port = (server.address() as AddressInfo).port;
    const client = new TroveClient({ baseUrl: `http://127.0.0.1:${port}`, retries: 4 });
    await expect(client.missingChunks('s', [])).rejects.toMatchObject({ code: 'storage_full' });
    expect(requests).toBe(1);
  });
});

describe('retryAfterMs', () => {
  it('reads seconds and HTTP dates, ignores junk', async () => {
    const { retryAfterMs } = await import('./api-client.js');
    expect(retryAfterMs('2')).toBeGreaterThanOrEqual(2000);
    expect(retryAfterMs('2')).toBeLessThanOrEqual(2400);
    expect(retryAfterMs('3600')).toBe(30_000);
    const now = Date.parse('2030-01-01T00:00:00Z');
    expect(retryAfterMs('Tue, 01 Jan 2030 00:00:05 GMT', now)).toBeGreaterThanOrEqual(5000);
    for (const junk of [null, '', 'soon', '-1']) expect(retryAfterMs(junk)).toBeNull();
  });
});
