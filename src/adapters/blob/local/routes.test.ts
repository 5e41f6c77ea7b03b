import { readdir } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalBlobHarness, openLocalBlobHarness } from '../testing/local-harness.js';
import { sendPresigned } from '../testing/presigned-conformance.js';
import { pseudoRandomBytes, sha256Hex } from '../testing/streams.js';
import { localBlobRoutes } from './routes.js';

async function errorCode(res: Response): Promise<string> {
  const body = (await res.json()) as { error: { code: string } };
  return body.error.code;
}

describe('localBlobRoutes', () => {
  let h: LocalBlobHarness;
  const body = pseudoRandomBytes(50_000, 99);
  const sha256 = sha256Hex(body);
  const presignPut = (key: string, expiresInSeconds = 60) =>
    h.store.presignPut(key, { size: body.length, sha256, expiresInSeconds });

  beforeAll(async () => {
    h = await openLocalBlobHarness();
    await h.store.put('stored', Readable.from([body]));
  });
  afterAll(async () => {
    await h.close();
  });

  it('answers a wrong length with 422 size_mismatch before reading the body', async () => {
    const put = await presignPut('short');
    const res = await sendPresigned(h.fetchBase, put, {
      body: body.subarray(10),
      headers: { 'content-length': String(body.length - 10) },
    });
    expect(res.status).toBe(422);
    expect(await res.json()).toEqual({
      error: {
        code: 'size_mismatch',
        message: expect.any(String),
        details: { expected: body.length, actual: body.length - 10 },
      },
    });
    expect(await h.store.stat('short')).toBeNull();
  });

  it('answers a body without Content-Length with 422 size_mismatch', async () => {
    const put = await presignPut('chunked');
    const res = await fetch(new URL(put.url, h.fetchBase), {
      method: 'PUT',
      body: Readable.toWeb(Readable.from([body])) as ReadableStream,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(422);
    expect(await errorCode(res)).toBe('size_mismatch');
  });

  it('answers wrong bytes with 422 digest_mismatch and the actual digest', async () => {
    const put = await presignPut('wrong');
    const wrong = Buffer.from(body);
    wrong[0] = (wrong[0] ?? 0) ^ 0xff;
    const res = await sendPresigned(h.fetchBase, put, { body: wrong });
    expect(res.status).toBe(422);
    const json = (await res.json()) as { error: { code: string; details: unknown } };
    expect(json.error.code).toBe('digest_mismatch');
    expect(json.error.details).toEqual({ expected: sha256, actual: sha256Hex(wrong) });
    expect(await h.store.stat('wrong')).toBeNull();
    expect(await readdir(join(h.root, '.tmp'))).toEqual([]);
  });

  it('answers 403 signature_invalid and 403 url_expired', async () => {
    const get = await h.store.presignGet('stored', { expiresInSeconds: 5 });
    const bad = await sendPresigned(h.fetchBase, { ...get, url: `${get.url}0` });
    expect(bad.status).toBe(403);
    expect(await errorCode(bad)).toBe('signature_invalid');
    const unsigned = await fetch(new URL('/v1/blobs/stored', h.fetchBase));
    expect(unsigned.status).toBe(403);
    expect(await errorCode(unsigned)).toBe('signature_invalid');
    h.advanceClock(6_000);
    const old = await sendPresigned(h.fetchBase, get);
    expect(old.status).toBe(403);
    expect(await errorCode(old)).toBe('url_expired');
  });

  it('answers 404 blob_not_found for a signed GET of a missing key', async () => {
    const get = await h.store.presignGet('nothing/here', { expiresInSeconds: 60 });
    const res = await sendPresigned(h.fetchBase, get);
    expect(res.status).toBe(404);
    expect(await errorCode(res)).toBe('blob_not_found');
  });

  it('serves HEAD, suffix and open ranges, and 416 with the size', async () => {
    const get = await h.store.presignGet('stored', { expiresInSeconds: 60 });
    const head = await sendPresigned(h.fetchBase, get, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(body.length));
    expect(head.headers.get('accept-ranges')).toBe('bytes');
    expect((await head.arrayBuffer()).byteLength).toBe(0);

    const whole = await sendPresigned(h.fetchBase, get);
    expect(whole.headers.get('accept-ranges')).toBe('bytes');
    expect(whole.headers.get('content-length')).toBe(String(body.length));
    expect(Buffer.from(await whole.arrayBuffer()).equals(body)).toBe(true);

    const suffix = await sendPresigned(h.fetchBase, get, { headers: { range: 'bytes=-100' } });
    expect(suffix.status).toBe(206);
    expect(suffix.headers.get('content-range')).toBe(
      `bytes ${body.length - 100}-${body.length - 1}/${body.length}`,
    );
    expect(Buffer.from(await suffix.arrayBuffer()).equals(body.subarray(-100))).toBe(true);

    const open = await sendPresigned(h.fetchBase, get, { headers: { range: 'bytes=49000-' } });
    expect(open.status).toBe(206);
    expect(open.headers.get('content-length')).toBe(String(body.length - 49_000));
    expect(Buffer.from(await open.arrayBuffer()).equals(body.subarray(49_000))).toBe(true);

    const multi = await sendPresigned(h.fetchBase, get, { headers: { range: 'bytes=0-1,5-6' } });
    expect(multi.status).toBe(200);
    await multi.arrayBuffer();

    const past = await sendPresigned(h.fetchBase, get, { headers: { range: 'bytes=50000-' } });
    expect(past.status).toBe(416);
    expect(past.headers.get('content-range')).toBe(`bytes */${body.length}`);
    expect(await errorCode(past)).toBe('invalid_request');
  });

  it('stores nothing when the client disconnects mid-upload', async () => {
    const put = await presignPut('aborted', 3600);
    const url = new URL(put.url, h.fetchBase);
    let started = false;
    await new Promise<void>((resolve) => {
      const req = request(url, { method: 'PUT', headers: put.headers });
      req.on('error', () => resolve());
      req.write(body.subarray(0, 20_000), async () => {
        // Abort only once the server is writing its temp file.
        for (let i = 0; i < 100 && (await readdir(join(h.root, '.tmp'))).length === 0; i++) {
          await sleep(10);
        }
        started = (await readdir(join(h.root, '.tmp'))).length > 0;
        req.destroy();
      });
    });
    for (let i = 0; i < 50 && (await readdir(join(h.root, '.tmp'))).length > 0; i++) {
      await sleep(20);
    }
    expect(started).toBe(true);
    expect(await readdir(join(h.root, '.tmp'))).toEqual([]);
    expect(await h.store.stat('aborted')).toBeNull();
  });

  it('works mounted at the root of a parent app with its own error handlers', async () => {
    const parent = new Hono();
    parent.onError((_err, c) => c.json({ parent: true }, 500));
    parent.notFound((c) => c.json({ parent: 'not found' }, 404));
    parent.get('/healthz', (c) => c.json({ ok: true }));
    parent.route('/', localBlobRoutes(h.local));
    const put = await presignPut('mounted/key');
    const res = await parent.request(put.url, { method: 'PUT', headers: put.headers, body });
    expect(res.status).toBe(200);
    const get = await h.store.presignGet('mounted/key', { expiresInSeconds: 60 });
    const ranged = await parent.request(get.url, { headers: { range: 'bytes=0-9' } });
    expect(ranged.status).toBe(206);
    expect(Buffer.from(await ranged.arrayBuffer()).equals(body.subarray(0, 10))).toBe(true);
    const bad = await parent.request(`${get.url}x`);
    expect(bad.status).toBe(403);
    expect(await errorCode(bad)).toBe('signature_invalid');
  });
});
