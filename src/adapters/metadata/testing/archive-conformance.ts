import { expect, it } from 'vitest';
import type { ArchiveRecord, MetadataStore } from '../../../ports/metadata-store.js';
import { digest, pushVersion } from './fixtures.js';

/** Pushes `n` versions to one storage, each archive made ready; returns the ids, oldest first. */
async function readyHistory(
  store: MetadataStore,
  tenant: string,
  n: number,
  storage = 'ws',
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const { session } = await pushVersion(store, tenant, {
      storage,
      expectedHead: ids.at(-1) ?? null,
    });
    await store.updateArchive(tenant, session.versionId, 'tar.zst', {
      state: 'ready',
      size: 100 + i,
      sha256: digest(),
    });
    ids.push(session.versionId);
  }
  return ids;
}

const stateOf = async (store: MetadataStore, tenant: string, id: string) =>
  (await store.listArchives(tenant, id))[0]?.state;

const ofTenant = (rows: ArchiveRecord[], tenant: string) =>
  rows
    .filter((r) => r.tenant === tenant)
    .map((r) => r.versionId)
    .sort();

/**
 * Archive retention cases of the MetadataStore conformance suite; called
 * inside its describe with the shared store. Eviction and purge act on every
 * tenant, so assertions look only at the test's own tenant.
 */
export function archiveRetentionConformance(
  getStore: () => MetadataStore,
  tenant: () => string,
): void {
  it('retention evicts archives outside the newest N entries of every storage, once', async () => {
    const store = getStore();
    const a = tenant();
    const [v1, v2, v3] = await readyHistory(store, a, 3);
    expect(ofTenant(await store.evictSupersededArchives(2, 10_000), a)).toEqual([v1]);
    const evicted = await store.evictSupersededArchives(1, 10_000);
    expect(ofTenant(evicted, a)).toEqual([v2]);
    expect(evicted.find((r) => r.versionId === v2)).toMatchObject({ state: 'evicted', size: 101 });
    expect(evicted.find((r) => r.versionId === v2)?.evictedAt).toBeInstanceOf(Date);
    expect(ofTenant(await store.evictSupersededArchives(1, 10_000), a)).toEqual([]);
    expect(await stateOf(store, a, v3!)).toBe('ready');
  });

  it('retention keeps an archive another storage (or a re-push) still has among its newest', async () => {
    const store = getStore();
    const a = tenant();
    const [v1, v2] = await readyHistory(store, a, 2);
    const [w1] = await readyHistory(store, a, 1, 'other');
    // v1 becomes head of a third storage; w1 becomes head of ws again.
    const again = { expectedHead: null, onConflict: 'force' as const, message: '' };
    await store.recordExistingVersion({
      ...again,
      tenant: a,
      storage: 'third',
      versionId: v1!,
      archiveFormats: ['tar.zst'],
    });
    await store.recordExistingVersion({
      ...again,
      tenant: a,
      storage: 'ws',
      versionId: w1!,
      expectedHead: v2!,
      archiveFormats: ['tar.zst'],
    });
    expect(ofTenant(await store.evictSupersededArchives(1, 10_000), a)).toEqual([v2]);
    expect(await stateOf(store, a, v1!)).toBe('ready');
    expect(await stateOf(store, a, w1!)).toBe('ready');
  });

  it('retention also evicts queued and failed archives, not building ones', async () => {
    const store = getStore();
    const a = tenant();
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const { session } = await pushVersion(store, a, { expectedHead: ids.at(-1) ?? null });
      ids.push(session.versionId);
    }
    const [pending, failed, building, head] = ids as [string, string, string, string];
    await store.updateArchive(a, failed, 'tar.zst', { state: 'failed', error: 'x' });
    await store.updateArchive(a, building, 'tar.zst', { state: 'building' });
    expect(await store.isArchiveRetained(a, head, 1)).toBe(true);
    expect(await store.isArchiveRetained(a, pending, 1)).toBe(false);
    expect(await store.isArchiveRetained(a, pending, 4)).toBe(true);
    expect(await store.isArchiveRetained(a, pending, 0)).toBe(true);
    expect(ofTenant(await store.evictSupersededArchives(1, 10_000), a)).toEqual(
      [pending, failed].sort(),
    );
    expect(await stateOf(store, a, building)).toBe('building');
    expect(await stateOf(store, a, head)).toBe('pending');
  });

  it('an evicted archive only yields to a rebuild', async () => {
    const store = getStore();
    const a = tenant();
    const [v1] = await readyHistory(store, a, 2);
    await store.evictSupersededArchives(1, 10_000);
    for (const state of ['ready', 'failed', 'pending'] as const) {
      expect(await store.updateArchive(a, v1!, 'tar.zst', { state })).toBe(true);
      expect(await stateOf(store, a, v1!)).toBe('evicted');
    }
    await store.updateArchive(a, v1!, 'tar.zst', { state: 'building' });
    await store.updateArchive(a, v1!, 'tar.zst', { state: 'ready', size: 5 });
    expect((await store.listArchives(a, v1!))[0]).toMatchObject({ state: 'ready', size: 5 });
  });

  it('purge deletes objects after the grace, marks rows deleted, retries after a failure', async () => {
    const store = getStore();
    const a = tenant();
    const [v1, v2] = await readyHistory(store, a, 3);
    await store.evictSupersededArchives(1, 10_000);
    const never = async () => {
      throw new Error('no object is old enough');
    };
    expect(ofTenant(await store.purgeEvictedArchives(3600, 10_000, never), a)).toEqual([]);
    const failing = store.purgeEvictedArchives(0, 10_000, async () => {
      throw new Error('bucket down');
    });
    await expect(failing).rejects.toThrow('bucket down');
    expect(await stateOf(store, a, v1!)).toBe('evicted');
    const seen: ArchiveRecord[] = [];
    const purged = await store.purgeEvictedArchives(0, 10_000, async (rows) => {
      seen.push(...rows);
    });
    expect(ofTenant(seen, a)).toEqual([v1, v2].sort());
    expect(ofTenant(purged, a)).toEqual([v1, v2].sort());
    expect(await stateOf(store, a, v1!)).toBe('deleted');
    expect(ofTenant(await store.purgeEvictedArchives(0, 10_000, never), a)).toEqual([]);
    // A deleted archive can be rebuilt; a stale job's late 'ready' cannot claim it.
    await store.updateArchive(a, v2!, 'tar.zst', { state: 'ready', size: 1 });
    expect(await stateOf(store, a, v2!)).toBe('deleted');
  });

  it('a rebuild waits while purge deletes the object, then proceeds', async () => {
    const store = getStore();
    const a = tenant();
    const [v1] = await readyHistory(store, a, 2);
    await store.evictSupersededArchives(1, 10_000);
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let entered!: () => void;
    const inside = new Promise<void>((r) => {
      entered = r;
    });
    const purge = store.purgeEvictedArchives(0, 10_000, async () => {
      entered();
      await gate;
    });
    await inside;
    let rebuilt = false;
    const rebuild = store.updateArchive(a, v1!, 'tar.zst', { state: 'building' }).then((ok) => {
      rebuilt = true;
      return ok;
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(rebuilt).toBe(false);
    release();
    await purge;
    expect(await rebuild).toBe(true);
    expect(await stateOf(store, a, v1!)).toBe('building');
  });

  it('concurrent retention passes evict and purge each archive once', async () => {
    const store = getStore();
    const a = tenant();
    const ids = await readyHistory(store, a, 6);
    const evictions = await Promise.all([1, 2, 3].map(() => store.evictSupersededArchives(1, 3)));
    const evicted = evictions.flatMap((rows) => ofTenant(rows, a));
    expect(new Set(evicted).size).toBe(evicted.length);
    await store.evictSupersededArchives(1, 10_000);
    const seen: string[] = [];
    await Promise.all(
      [1, 2, 3].map(() =>
        store.purgeEvictedArchives(0, 10_000, async (rows) => {
          await new Promise((r) => setTimeout(r, 20));
          seen.push(...ofTenant(rows, a));
        }),
      ),
    );
    expect(seen.sort()).toEqual(ids.slice(0, 5).sort());
  });
}

/**
 * A push making an old version head again races eviction: whenever the
 * push's follow-up read (what enqueueMaterialize does) still saw the archive
 * ready, eviction must not have taken it afterwards.
 */
export function archiveEvictionRaceConformance(
  getStore: () => MetadataStore,
  tenant: () => string,
): void {
  it('eviction never takes the archive of a version a concurrent push made head', async () => {
    const store = getStore();
    for (let trial = 0; trial < 8; trial++) {
      const a = tenant();
      const [v1, v2] = await readyHistory(store, a, 2);
      const push = async () => {
        await store.recordExistingVersion({
          tenant: a,
          storage: 'ws',
          versionId: v1!,
          expectedHead: v2!,
          onConflict: 'fail',
          message: '',
          archiveFormats: ['tar.zst'],
        });
        return stateOf(store, a, v1!);
      };
      const [seenByPush] = await Promise.all([push(), store.evictSupersededArchives(1, 10_000)]);
      if (seenByPush === 'ready') expect(await stateOf(store, a, v1!)).toBe('ready');
    }
  });
}
