import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planResponse } from '../api/schemas.js';
import { decompressChunk } from '../core/codec.js';
import { sha256Hex } from '../core/digest.js';
import {
  buildTree,
  call,
  type Harness,
  makeHarness,
  push,
  sendPresigned,
} from '../testing/http-harness.js';

let h: Harness;
beforeAll(async () => {
  h = await makeHarness();
});
afterAll(async () => {
  await h?.close();
});

interface PlanChunk {
  digest: string;
  offset: number;
  storedSize: number;
  rawSize: number;
  codec: 'raw' | 'zstd';
}

describe('reconstruction plan', () => {
  it('returns coalesced ranges whose bytes decode to the requested chunks', async () => {
    const spec: Record<string, Buffer | string> = {};
    for (let i = 0; i < 6; i++) spec[`f${i}.txt`] = `line ${i} of a text file\n`.repeat(400 + i);
    const tree = buildTree(spec, 4096);
    const { commit } = await push(h.app, 'plans', tree);
    expect(commit?.status).toBe(200);

    const wanted = [...tree.chunks.keys()];
    const stranger = sha256Hex(Buffer.from('not stored anywhere'));
    const plan = await call(h.app, 'POST', '/v1/storages/plans/versions/latest/plan', {
      digests: [...wanted, stranger],
    });
    expect(plan.status).toBe(200);
    planResponse.parse(plan.json);
    expect(plan.json.unknown).toEqual([stranger]);
    expect(plan.json.packs).toHaveLength(1);
    const [pack] = plan.json.packs;
    // Adjacent chunks of one pack coalesce into one range.
    expect(pack.ranges).toHaveLength(1);
    const got = new Map<string, Buffer>();
    for (const range of pack.ranges as { start: number; end: number; chunks: PlanChunk[] }[]) {
      const res = await sendPresigned(h.app, pack.request, undefined, range);
      expect(res.status).toBe(206);
      const bytes = Buffer.from(await res.arrayBuffer());
      expect(bytes.length).toBe(range.end - range.start);
      for (const c of range.chunks) {
        const stored = bytes.subarray(c.offset, c.offset + c.storedSize);
        const raw = decompressChunk(c.codec, stored, c.rawSize);
        expect(sha256Hex(raw)).toBe(c.digest);
        got.set(c.digest, raw);
      }
    }
    expect([...got.keys()].sort()).toEqual([...wanted].sort());
  });

  it('splits ranges across packs and never plans another storage or unknown version', async () => {
    const a = buildTree({ 'a.txt': 'alpha '.repeat(1000) });
    const b = buildTree({ 'b.txt': 'beta '.repeat(1000) });
    await push(h.app, 'plans2', a);
    await push(h.app, 'plans2', b, { parent: a.id });
    const digests = [...a.chunks.keys(), ...b.chunks.keys()];
    const plan = await call(h.app, 'POST', `/v1/storages/plans2/versions/${b.id}/plan`, {
      digests,
    });
    expect(plan.json.packs).toHaveLength(2);
    const missing = await call(h.app, 'POST', '/v1/storages/nowhere/versions/latest/plan', {
      digests,
    });
    expect(missing.json.error.code).toBe('storage_not_found');
    const wrong = await call(h.app, 'POST', `/v1/storages/plans2/versions/${'0'.repeat(64)}/plan`, {
      digests,
    });
    expect(wrong.json.error.code).toBe('version_not_found');
  });
});
