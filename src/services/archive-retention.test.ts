import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ArchiveFormat } from '../core/types.js';
import { captureLogs } from '../observability/logger.js';
import { startWorker } from '../server/worker.js';
import {
  type BuiltTree,
  buildTree,
  call,
  type Harness,
  makeHarness,
  push,
} from '../testing/http-harness.js';
import { applyArchiveRetention } from './archive-retention.js';
import { archiveKey } from './keys.js';
import { materializeArchive } from './materialize.js';

const FORMATS: ArchiveFormat[] = ['tar.gz', 'tar.zst'];
let h: Harness;
let trees: BuiltTree[];

beforeAll(async () => {
  h = await makeHarness({ archiveFormats: FORMATS });
  trees = [1, 2, 3].map((i) =>
    buildTree({ 'a.txt': `version ${i}\n`.repeat(2000), 'same.txt': 'shared\n' }),
  );
  let parent: string | null = null;
  for (const tree of trees) {
    const { commit } = await push(h.app, 'ret', tree, { parent });
    expect(commit?.status).toBe(200);
    await materializeAll(tree.id);
    parent = tree.id;
  }
});
afterAll(async () => {
  await h?.close();
});

async function materializeAll(versionId: string): Promise<void> {
  for (const format of FORMATS) {
    await materializeArchive(h, { tenant: 'default', versionId, format });
  }
}

const objectExists = async (versionId: string, format: ArchiveFormat) =>
  (await h.blobs.stat(archiveKey('default', versionId, format))) !== null;

const states = async (versionId: string) =>
  (await h.metadata.listArchives('default', versionId)).map((a) => a.state);

describe('archive retention', () => {
  it('evicts superseded archives at once and deletes their objects after the grace', async () => {
    const [v1, v2, v3] = trees.map((t) => t.id) as [string, string, string];
    const first = await applyArchiveRetention(h, { keep: 1, graceSeconds: 3600 });
    expect(first).toMatchObject({ evicted: 4, deleted: 0 });
    expect(await states(v1)).toEqual(['evicted', 'evicted']);
    expect(await states(v3)).toEqual(['ready', 'ready']);
    // Within the grace the objects stay (downloads already handed out finish)...
    expect(await objectExists(v2, 'tar.zst')).toBe(true);
    // ...but clients are no longer offered them: the summary lists no archive.
    const summary = await call(h.app, 'GET', `/v1/storages/ret/versions/${v1}`);
    expect(summary.status).toBe(200);
    expect(summary.json.archives).toEqual([]);
    const head = await call(h.app, 'GET', '/v1/storages/ret/versions/latest');
    expect(head.json.archives.map((a: { state: string }) => a.state)).toEqual(['ready', 'ready']);

    const second = await applyArchiveRetention(h, { keep: 1, graceSeconds: 0 });
    expect(second.deleted).toBe(4);
    expect(second.deletedBytes).toBeGreaterThan(0);
    for (const v of [v1, v2]) {
      expect(await states(v)).toEqual(['deleted', 'deleted']);
      for (const f of FORMATS) expect(await objectExists(v, f)).toBe(false);
    }
    for (const f of FORMATS) expect(await objectExists(v3, f)).toBe(true);
    expect(await applyArchiveRetention(h, { keep: 1, graceSeconds: 0 })).toEqual({
      evicted: 0,
      deleted: 0,
      deletedBytes: 0,
    });
  });

  it('an old version pushed again is rebuilt and kept; the one it replaced goes', async () => {
    const [v1, , v3] = trees.map((t) => t.id) as [string, string, string];
    const again = await push(h.app, 'ret', trees[0]!, { parent: v3 });
    expect(again.start.status).toBe(200);
    // The push asked for the archive again (enqueueMaterialize: not ready); the worker rebuilds it.
    await materializeAll(v1);
    expect(await states(v1)).toEqual(['ready', 'ready']);
    for (const f of FORMATS) expect(await objectExists(v1, f)).toBe(true);
    const r = await applyArchiveRetention(h, { keep: 1, graceSeconds: 0 });
    expect(r).toMatchObject({ evicted: 2, deleted: 2 });
    expect(await states(v3)).toEqual(['deleted', 'deleted']);
    expect(await states(v1)).toEqual(['ready', 'ready']);
  });

  it('keep = 0 evicts nothing but still purges what was evicted before', async () => {
    const tree = buildTree({ 'b.txt': 'other storage\n' });
    await push(h.app, 'ret-off', tree);
    await materializeAll(tree.id);
    const next = buildTree({ 'b.txt': 'other storage, v2\n' });
    await push(h.app, 'ret-off', next, { parent: tree.id });
    await materializeAll(next.id);
    expect(await applyArchiveRetention(h, { keep: 0, graceSeconds: 0 })).toMatchObject({
      evicted: 0,
    });
    expect(await states(tree.id)).toEqual(['ready', 'ready']);
    await h.metadata.evictSupersededArchives(1, 100);
    const r = await applyArchiveRetention(h, { keep: 0, graceSeconds: 0 });
    expect(r).toMatchObject({ evicted: 0, deleted: 2 });
  });
});

describe('worker with retention', () => {
  it('skips queued builds of versions evicted before their turn, builds the head', async () => {
    const burst = [1, 2, 3].map((i) => buildTree({ 'run.txt': `burst ${i}\n`.repeat(500) }));
    let parent: string | null = null;
    for (const tree of burst) {
      await push(h.app, 'burst', tree, { parent });
      parent = tree.id;
    }
    const policy = { keep: 1, graceSeconds: 0 };
    // Three pushes faster than the builds: the two older archives are evicted while queued.
    await applyArchiveRetention(h, policy);
    const logs = captureLogs('debug');
    const worker = await startWorker(
      { ...h, logger: logs.logger },
      { sweepIntervalMs: 3_600_000, retention: policy },
    );
    const skipped = () =>
      logs
        .events()
        .filter((e) => e.msg === 'materialize skipped: archive evicted')
        .map((e) => e.versionId);
    try {
      const [v1, v2, v3] = burst.map((t) => t.id) as [string, string, string];
      for (let i = 0; i < 300; i++) {
        const done = (await states(v3)).every((s) => s === 'ready');
        if (done && [v1, v2].every((v) => skipped().filter((x) => x === v).length === 2)) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(await states(v3)).toEqual(['ready', 'ready']);
      const built = logs.events().filter((e) => e.msg === 'materialize finished');
      expect(built.map((e) => e.versionId)).not.toContain(v1);
      expect(built.map((e) => e.versionId)).not.toContain(v2);
      for (const v of [v1, v2]) {
        expect(await states(v)).toEqual(['deleted', 'deleted']);
        for (const f of FORMATS) expect(await objectExists(v, f)).toBe(false);
      }
    } finally {
      worker.stop();
    }
  });
});
