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
