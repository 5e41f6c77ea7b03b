import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BlobStoreHarness, EMPTY_SHA256, expectTroveError } from './harness.js';
import { runPresignedConformance } from './presigned-conformance.js';

import {
  digestStream,
  generatedSha256,
  generatedStream,
  pseudoRandomBytes,
  readAll,
  sha256Hex,
} from './streams.js';

function bytes(buf: Buffer): Readable {
  return Readable.from([buf]);
}

/**
 * The behaviour every BlobStore adapter must show, run by each adapter's test
 * with a fresh store. Keys are unique per test so a shared bucket is fine.
 */
export function runBlobStoreConformance(name: string, open: () => Promise<BlobStoreHarness>): void {
  describe(`BlobStore conformance: ${name}`, () => {
    let harness: BlobStoreHarness | undefined;
    const h = (): BlobStoreHarness => {
      if (!harness) throw new Error('harness not opened');
      return harness;
    };
    const newKey = (label: string): string => `conformance/${label}/${randomUUID()}`;

    beforeAll(async () => {
      harness = await open();
    });
    afterAll(async () => {
      await harness?.close();
    });

    it('answers ping', async () => {
      await expect(h().store.ping()).resolves.toBeUndefined();
    });

    it('round-trips an empty object', async () => {
      const { store } = h();
      const key = newKey('empty');
      const put = await store.put(key, Readable.from([]), { size: 0, sha256: EMPTY_SHA256 });
      expect(put).toEqual({ size: 0, sha256: EMPTY_SHA256 });
      expect(await store.stat(key)).toEqual({ size: 0 });
      expect((await readAll(await store.get(key))).length).toBe(0);
      expect((await readAll(await store.get(key, { start: 0, end: 0 }))).length).toBe(0);
    });

    it('round-trips a single byte', async () => {
      const { store } = h();
      const key = newKey('one');
      const body = Buffer.from([0x2a]);
      const put = await store.put(key, bytes(body));
      expect(put).toEqual({ size: 1, sha256: sha256Hex(body) });
      expect(await store.stat(key)).toEqual({ size: 1 });
      expect(await readAll(await store.get(key))).toEqual(body);
    });

    it('streams a multi-MiB object in and out', async () => {
      const { store } = h();
      const key = newKey('big');
      const size = 9 * 1024 * 1024 + 12_345;
      const sha256 = generatedSha256(size, 7);
      const put = await store.put(key, generatedStream(size, 7), { size, sha256 });
      expect(put).toEqual({ size, sha256 });
      expect(await store.stat(key)).toEqual({ size });
      expect(await digestStream(await store.get(key))).toEqual({ size, sha256 });
    });

    it('reads byte ranges [start, end)', async () => {
      const { store } = h();
      const key = newKey('range');
      const body = pseudoRandomBytes(100_003, 11);
      await store.put(key, bytes(body), { size: body.length, sha256: sha256Hex(body) });
      const n = body.length;
      for (const [start, end] of [
        [0, 1],
        [n - 1, n],
        [4_096, 70_000],
        [0, n],
        [500, 500],
      ] as const) {
        const got = await readAll(await store.get(key, { start, end }));
        expect(got.equals(body.subarray(start, end)), `range [${start}, ${end})`).toBe(true);
      }
    });

    it('rejects ranges that are malformed or extend past the end', async () => {
      const { store } = h();
      const key = newKey('badrange');
      await store.put(key, bytes(Buffer.from('0123456789')));
      await expectTroveError(store.get(key, { start: 5, end: 11 }), 'invalid_request');
      await expectTroveError(store.get(key, { start: 6, end: 5 }), 'invalid_request');
      await expectTroveError(store.get(key, { start: -1, end: 5 }), 'invalid_request');
      await expectTroveError(store.get(key, { start: 0.5, end: 5 }), 'invalid_request');
    });

    it('rejects a wrong size or digest and stores nothing', async () => {
      const { store } = h();
      const body = pseudoRandomBytes(1000, 3);
      const sha256 = sha256Hex(body);
      const cases = [
        { options: { size: 999, sha256 }, code: 'size_mismatch' },
        { options: { size: 1001, sha256 }, code: 'size_mismatch' },
        { options: { size: 1000, sha256: EMPTY_SHA256 }, code: 'digest_mismatch' },
        { options: { sha256: EMPTY_SHA256 }, code: 'digest_mismatch' },
      ] as const;
      for (const { options, code } of cases) {
        const key = newKey('mismatch');
        const err = await expectTroveError(store.put(key, bytes(body), options), code);
        expect(err.details).toMatchObject({ expected: expect.anything() });
        expect(await store.stat(key)).toBeNull();
        await expectTroveError(store.get(key), 'blob_not_found');
      }
    });

    it('keeps the previous object when a replacing put fails verification', async () => {
      const { store } = h();
      const key = newKey('keep');
      const first = Buffer.from('first version');
      await store.put(key, bytes(first));
      const second = Buffer.from('second version, longer');
      await expectTroveError(
        store.put(key, bytes(second), { size: second.length, sha256: EMPTY_SHA256 }),
        'digest_mismatch',
      );
      expect(await readAll(await store.get(key))).toEqual(first);
    });

    it('overwrites an existing key', async () => {
      const { store } = h();
      const key = newKey('overwrite');
      await store.put(key, bytes(Buffer.from('a much longer first body')));
      await store.put(key, bytes(Buffer.from('short')));
      expect(await store.stat(key)).toEqual({ size: 5 });
      expect((await readAll(await store.get(key))).toString()).toBe('short');
    });

    it('survives concurrent puts of the same content to one key', async () => {
      const { store } = h();
      const key = newKey('race');
      const body = pseudoRandomBytes(300_000, 5);
      const sha256 = sha256Hex(body);
      await Promise.all(
        Array.from({ length: 4 }, () => store.put(key, bytes(body), { size: body.length, sha256 })),
      );
      expect(await digestStream(await store.get(key))).toEqual({ size: body.length, sha256 });
    });

    it('deletes objects and ignores missing keys', async () => {
      const { store } = h();
      const kept = newKey('kept');
      const gone = [newKey('gone'), newKey('gone')];
      for (const key of [kept, ...gone]) await store.put(key, bytes(Buffer.from(key)));
      await store.delete([...gone, newKey('never-existed')]);
      for (const key of gone) expect(await store.stat(key)).toBeNull();
      expect(await store.stat(kept)).toEqual({ size: Buffer.byteLength(kept) });
      await store.delete([]);
      await store.delete(gone);
    });

    it('reports missing objects', async () => {
      const { store } = h();
      const key = newKey('missing');
      expect(await store.stat(key)).toBeNull();
      await expectTroveError(store.get(key), 'blob_not_found');
      await expectTroveError(store.get(key, { start: 0, end: 1 }), 'blob_not_found');
    });

    it('rejects invalid keys and options with invalid_request', async () => {
      const { store } = h();
      for (const key of ['', '/abs', 'a//b', 'a/../b', 'trailing/', 'sp ace', 'x'.repeat(1025)]) {
        await expectTroveError(store.stat(key), 'invalid_request');
        await expectTroveError(store.get(key), 'invalid_request');
        await expectTroveError(store.put(key, bytes(Buffer.from('x'))), 'invalid_request');
        await expectTroveError(store.delete([key]), 'invalid_request');
        await expectTroveError(store.presignGet(key, { expiresInSeconds: 60 }), 'invalid_request');
      }
      const key = newKey('opts');
      const ok = { size: 1, sha256: EMPTY_SHA256, expiresInSeconds: 60 };
      for (const bad of [
        { size: -1 },
        { size: 1.5 },
        { sha256: EMPTY_SHA256.toUpperCase() },
        { sha256: 'abc' },
        { expiresInSeconds: 0 },
        { expiresInSeconds: 7 * 24 * 3600 + 1 },
      ]) {
        await expectTroveError(store.presignPut(key, { ...ok, ...bad }), 'invalid_request');
      }
      await expectTroveError(
        store.put(key, bytes(Buffer.from('x')), { size: -1 }),
        'invalid_request',
      );
      expect(await store.stat(key)).toBeNull();
    });

    runPresignedConformance(h, newKey);
  });
}
