import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type LocalBlobHarness, openLocalBlobHarness } from '../testing/local-harness.js';
import { sendPresigned } from '../testing/presigned-conformance.js';
import { pseudoRandomBytes, sha256Hex } from '../testing/streams.js';

/** The errno the next file writes fail with (ENOSPC: disk full, EDQUOT: quota), or null. */
const fault = vi.hoisted(() => ({ code: null as string | null }));

vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const open: typeof real.open = async (...args) => {
    const fh = await real.open(...args);
    const write = fh.write.bind(fh) as (...a: unknown[]) => Promise<unknown>;
    (fh as unknown as { write: (...a: unknown[]) => Promise<unknown> }).write = (...a) => {
      if (fault.code === null) return write(...a);
      const err = new Error(`${fault.code}: no space left on device, write`);
      return Promise.reject(Object.assign(err, { code: fault.code, errno: -28, syscall: 'write' }));
    };
    return fh;
  };
  return { ...real, open, default: { ...real, open } };
});

describe('local blob store on a full disk', () => {
  let h: LocalBlobHarness;
  const body = pseudoRandomBytes(50_000, 7);
  const sha256 = sha256Hex(body);

  beforeAll(async () => {
    h = await openLocalBlobHarness();
  });
  afterAll(async () => {
    fault.code = null;
    await h.close();
  });

  it('reports ENOSPC and EDQUOT as storage_full, saying what to do, and leaves no partial file', async () => {
    for (const code of ['ENOSPC', 'EDQUOT']) {
      fault.code = code;
      const err = await h.store.put(`full-${code}`, Readable.from([body])).catch((e) => e);
      fault.code = null;
      expect(err).toMatchObject({ code: 'storage_full', details: { errno: code } });
      expect(err.message).toMatch(/disk is full: free space or grow the volume/);
      expect(await h.store.stat(`full-${code}`)).toBeNull();
    }
    expect(await readdir(join(h.root, '.tmp')).catch(() => [])).toEqual([]);
  });

  it('answers a signed PUT with 503 storage_full', async () => {
    const put = await h.store.presignPut('full-route', {
      size: body.length,
      sha256,
      expiresInSeconds: 60,
    });
    fault.code = 'ENOSPC';
    const res = await sendPresigned(h.fetchBase, put, { body });
    fault.code = null;
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('storage_full');
    // Space freed: the same URL works.
    expect((await sendPresigned(h.fetchBase, put, { body })).status).toBe(200);
  });
});
