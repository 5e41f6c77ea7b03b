import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { PresignedRequest } from '../../../ports/blob-store.js';
import type { BlobStoreHarness } from './harness.js';
import { digestStream, pseudoRandomBytes, readAll, sha256Hex } from './streams.js';

/**
 * Sends a presigned request as a client would: URL resolved against the base
 * (absolute URLs, as S3 signs them, need none), headers verbatim.
 */
export async function sendPresigned(
  base: string | undefined,
  request: PresignedRequest,
  init: { body?: Uint8Array; headers?: Record<string, string>; method?: string } = {},
): Promise<Response> {
  return fetch(new URL(request.url, base), {
    method: init.method ?? request.method,
    headers: { ...request.headers, ...init.headers },
    ...(init.body ? { body: init.body } : {}),
  });
}

/** The same URL with one character of its signature changed. */
export function tamperSignature(url: string): string {
  const parsed = new URL(url, 'http://placeholder.invalid');
  const name = [...parsed.searchParams.keys()].find((k) => /signature/i.test(k));
  if (!name) throw new Error(`no signature parameter in ${url}`);
  const value = parsed.searchParams.get(name) ?? '';
  const flipped = (value[0] === 'A' ? 'B' : 'A') + value.slice(1);
  parsed.searchParams.set(name, flipped);
  return /^https?:/.test(url) ? parsed.toString() : `${parsed.pathname}${parsed.search}`;
}

/**
 * Presigned-URL behaviour, part of every adapter's contract: nothing is
 * skipped. A harness whose store signs relative URLs must give `fetchBase`
 * (the server serving them); without it those URLs cannot resolve and the
 * tests fail, as a client would.
 */
export function runPresignedConformance(
  h: () => BlobStoreHarness,
  newKey: (label: string) => string,
): void {
  describe('presigned URLs', () => {
    const setup = (): { base: string | undefined; harness: BlobStoreHarness } => {
      const harness = h();
      return { base: harness.fetchBase, harness };
    };
    const body = pseudoRandomBytes(200_000, 21);
    const sha256 = sha256Hex(body);
    const putOptions = { size: body.length, sha256, expiresInSeconds: 300 };

    it('PUTs exact bytes, idempotently, and GETs them back', async () => {
      const { base, harness } = setup();
      const key = newKey('presigned-put');
      const put = await harness.store.presignPut(key, putOptions);
      expect(put.method).toBe('PUT');
      expect(Date.parse(put.expiresAt)).toBeGreaterThan(Date.now() + 290_000);
      for (let i = 0; i < 2; i++) {
        const res = await sendPresigned(base, put, { body });
        await res.arrayBuffer();
        // S3 answers a repeated conditional PUT (If-None-Match: *) with 412;
        // the key is content addressed, so that means "already stored".
        const ok = res.status < 300 || (i > 0 && res.status === 412);
        expect(ok, `PUT attempt ${i + 1}: ${res.status}`).toBe(true);
      }
      expect(await harness.store.stat(key)).toEqual({ size: body.length });
      const got = await readAll(await harness.store.get(key));
      expect(got.equals(body)).toBe(true);

      const get = await harness.store.presignGet(key, { expiresInSeconds: 300 });
      expect(get.method).toBe('GET');
      const res = await sendPresigned(base, get);
      expect(res.status).toBe(200);
      expect(Buffer.from(await res.arrayBuffer()).equals(body)).toBe(true);
    });

    it('PUTs and GETs an empty object', async () => {
      const { base, harness } = setup();
      const key = newKey('presigned-empty');
      const empty = new Uint8Array(0);
      const put = await harness.store.presignPut(key, {
        size: 0,
        sha256: sha256Hex(empty),
        expiresInSeconds: 300,
      });
      const res = await sendPresigned(base, put, { body: empty });
      await res.arrayBuffer();
      expect(res.status).toBeLessThan(300);
      expect(await harness.store.stat(key)).toEqual({ size: 0 });
      const get = await harness.store.presignGet(key, { expiresInSeconds: 300 });
      const got = await sendPresigned(base, get);
      expect(got.status).toBe(200);
      expect((await got.arrayBuffer()).byteLength).toBe(0);
    });

    it('refuses wrong bytes or a wrong length and stores nothing', async () => {
      const { base, harness } = setup();
      const wrong = Buffer.from(body);
      wrong[1234] = (wrong[1234] ?? 0) ^ 1;
      for (const attempt of [wrong, body.subarray(1), Buffer.concat([body, Buffer.from('x')])]) {
        const key = newKey('presigned-bad');
        const put = await harness.store.presignPut(key, putOptions);
        const headers = { 'content-length': String(attempt.length) };
        const res = await sendPresigned(base, put, { body: attempt, headers });
        await res.arrayBuffer();
        if (harness.enforcesPresignedIntegrity) {
          expect(res.status).toBeGreaterThanOrEqual(400);
          expect(res.status).toBeLessThan(500);
          expect(await harness.store.stat(key)).toBeNull();
        } else {
          // The backend stored the wrong bytes; the digest check commit runs
          // on every pack must tell them from what was signed.
          expect(res.status, 'a backend without integrity checks accepts').toBeLessThan(300);
          const stored = await digestStream(await harness.store.get(key));
          expect(stored.size).toBe(attempt.length);
          expect(stored).not.toEqual({ size: putOptions.size, sha256 });
          await harness.store.delete([key]);
        }
      }
    });

    it('serves single byte ranges with 206, and 416 past the end', async () => {
      const { base, harness } = setup();
      const key = newKey('presigned-range');
      await harness.store.put(key, Readable.from([body]));
      const get = await harness.store.presignGet(key, { expiresInSeconds: 300 });
      const n = body.length;
      for (const [first, last] of [
        [0, 0],
        [n - 1, n - 1],
        [1000, 65_535],
      ] as const) {
        const res = await sendPresigned(base, get, {
          headers: { range: `bytes=${first}-${last}` },
        });
        const got = Buffer.from(await res.arrayBuffer());
        if (last === 0 && !harness.servesFirstByteRange) {
          // The backend answers the whole object from byte 0; clients keep only what they asked.
          expect(got.subarray(0, 1).equals(body.subarray(0, 1))).toBe(true);
          continue;
        }
        expect(res.status).toBe(206);
        expect(res.headers.get('content-range')).toBe(`bytes ${first}-${last}/${n}`);
        expect(got.equals(body.subarray(first, last + 1))).toBe(true);
      }
      const res = await sendPresigned(base, get, { headers: { range: `bytes=${n}-${n + 10}` } });
      await res.arrayBuffer();
      expect(res.status).toBe(416);
    });

    it('answers 404 for a signed GET of a missing object', async () => {
      const { base, harness } = setup();
      const get = await harness.store.presignGet(newKey('presigned-missing'), {
        expiresInSeconds: 300,
      });
      const res = await sendPresigned(base, get);
      await res.arrayBuffer();
      expect(res.status).toBe(404);
    });

    it('refuses a tampered signature, another key or another method', async () => {
      const { base, harness } = setup();
      const key = newKey('presigned-tamper');
      const put = await harness.store.presignPut(key, putOptions);
      const other = newKey('presigned-other');
      for (const request of [
        { ...put, url: tamperSignature(put.url) },
        { ...put, url: put.url.replace(key, other) },
      ]) {
        const res = await sendPresigned(base, request, { body });
        await res.arrayBuffer();
        if (harness.verifiesSignatures) expect(res.status).toBe(403);
        else expect(res.status, 'a backend without SigV4 checks accepts').toBeLessThan(300);
      }
      if (harness.verifiesSignatures) {
        expect(await harness.store.stat(key)).toBeNull();
        expect(await harness.store.stat(other)).toBeNull();
      } else {
        // Accepted, but only the signed bytes could pass commit's digest check.
        for (const k of [key, other]) {
          expect(await digestStream(await harness.store.get(k))).toEqual({
            size: body.length,
            sha256,
          });
        }
        await harness.store.delete([key, other]);
      }

      await harness.store.put(key, Readable.from([body]));
      const get = await harness.store.presignGet(key, { expiresInSeconds: 300 });
      for (const [request, method] of [
        [{ ...get, url: tamperSignature(get.url) }, 'GET'],
        [put, 'GET'],
        [get, 'PUT'],
      ] as const) {
        const init = method === 'PUT' ? { method, body } : { method };
        const res = await sendPresigned(base, request, init);
        await res.arrayBuffer();
        const label = `${method} with a ${request.method} URL`;
        if (harness.verifiesSignatures) expect(res.status, label).toBe(403);
        // Not refused; a GET carrying the PUT's If-None-Match: * may get 304.
        else expect(res.status, `${label} (backend without SigV4 checks)`).toBeLessThan(400);
      }
      // Whatever the backend allowed, the object still holds the signed bytes.
      expect(await digestStream(await harness.store.get(key))).toEqual({
        size: body.length,
        sha256,
      });
    });

    it('refuses expired URLs', async () => {
      const { base, harness } = setup();
      const key = newKey('presigned-expired');
      const put = await harness.store.presignPut(key, { ...putOptions, expiresInSeconds: 1 });
      const get = await harness.store.presignGet(key, { expiresInSeconds: 1 });
      // S3 counts expiry from a whole-second X-Amz-Date, hence the extra second.
      const latest = Math.max(Date.parse(put.expiresAt), Date.parse(get.expiresAt));
      const waitMs = latest - Date.now() + 1100;
      if (harness.advanceClock) harness.advanceClock(waitMs);
      else await sleep(waitMs);
      const putRes = await sendPresigned(base, put, { body });
      await putRes.arrayBuffer();
      expect(putRes.status).toBe(403);
      expect(await harness.store.stat(key)).toBeNull();
      const getRes = await sendPresigned(base, get);
      await getRes.arrayBuffer();
      expect(getRes.status).toBe(403);
    });
  });
}
