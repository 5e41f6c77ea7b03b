import { expect, it } from 'vitest';
import type { MetadataStore } from '../../../ports/metadata-store.js';
import { chunksOf, digest, newSession, pushVersion } from './fixtures.js';

/**
 * Pack lifecycle cases of the MetadataStore conformance suite (a pack found
 * missing, and its repair); called inside its describe with the shared store.
 */
export function packStateConformance(getStore: () => MetadataStore, tenant: () => string): void {
  it('a missing pack stops vouching for its chunks until a new pack takes them over', async () => {
    const store = getStore();
    const a = tenant();
    const chunks = chunksOf(3);
    const first = await pushVersion(store, a, {}, chunks);
    const v1 = first.session.versionId;
    // A second version whose commit found the same chunks in the first pack.
    const later = await store.createSession(newSession(a, { expectedHead: v1 }));
    await store.saveCommitProgress(a, later.id, { entriesChecked: 3, manifestValid: true }, [
      first.pack.id,
    ]);
    const v2 = later.versionId;
    await store.finalizeCommit({
      tenant: a,
      sessionId: later.id,
      version: { id: v2, manifestSize: 100, size: 60, files: 3, entries: 4, chunkRefs: 3 },
      archiveFormats: [],
      bytesUploaded: 0,
    });
    const digests = chunks.map((c) => c.digest);
    expect(await store.getPacks(a, [first.pack.id])).toEqual([
      { id: first.pack.id, size: 1000, state: 'live' },
    ]);
    // Another tenant's pack of the same id is untouched (scoping).
    expect(await store.markPacksMissing(tenant(), [first.pack.id])).toEqual([]);

    expect(await store.markPacksMissing(a, [first.pack.id, digest('absent')])).toEqual([
      first.pack.id,
    ]);
    expect(await store.markPacksMissing(a, [first.pack.id])).toEqual([]);
    expect((await store.findChunks(a, digests)).map((c) => c.packState)).toEqual([
      'missing',
      'missing',
      'missing',
    ]);
    const check = await store.checkChunks(
      a,
      chunks.map((c) => ({ digest: c.digest, size: c.rawSize })),
    );
    expect(check.missing).toEqual([...digests].sort());
    expect(await store.listMissingVersionPacks(a, v1)).toEqual([first.pack.id]);

    // A repair session re-uploads the chunks in a new pack and commits v1 again.
    const s = await store.createSession(newSession(a, { versionId: v1, expectedHead: v2 }));
    const pack = { id: digest('p'), size: 900 };
    await store.addSessionPacks(a, s.id, [pack]);
    await store.recordVerifiedPack(a, s.id, pack, chunks);
    expect((await store.findChunks(a, digests)).map((c) => c.packId)).toEqual([
      pack.id,
      pack.id,
      pack.id,
    ]);
    // Every version that used the old pack now references the new one too (GC keeps it).
    expect(await store.listVersionPacks(a, v2)).toEqual([first.pack.id, pack.id].sort());
    // The old pack holds no index rows any more: it damages nothing.
    expect(await store.listMissingVersionPacks(a, v2)).toEqual([]);
    await store.saveCommitProgress(a, s.id, { entriesChecked: 3, manifestValid: true }, [pack.id]);
    const outcome = await store.finalizeCommit({
      tenant: a,
      sessionId: s.id,
      version: { id: v1, manifestSize: 100, size: 60, files: 3, entries: 4, chunkRefs: 3 },
      archiveFormats: ['tar.zst'],
      bytesUploaded: 900,
    });
    expect(outcome).toMatchObject({ created: false, versionId: v1 });
    // The repaired version references exactly what its commit found.
    expect(await store.listVersionPacks(a, v1)).toEqual([pack.id]);
    expect(await store.listMissingVersionPacks(a, v1)).toEqual([]);
  });

  it('a missing pack uploaded again under its own id becomes live again', async () => {
    const store = getStore();
    const a = tenant();
    const chunks = chunksOf(2);
    const { pack, session } = await pushVersion(store, a, {}, chunks);
    await store.markPacksMissing(a, [pack.id]);
    const s = await store.createSession(newSession(a, { versionId: session.versionId }));
    await store.addSessionPacks(a, s.id, [pack]);
    expect(await store.adoptLivePack(a, s.id, pack.id)).toBe(false);
    await store.recordVerifiedPack(a, s.id, pack, chunks);
    expect(await store.getPacks(a, [pack.id])).toEqual([
      { id: pack.id, size: 1000, state: 'live' },
    ]);
    expect(await store.listMissingVersionPacks(a, session.versionId)).toEqual([]);
  });

  it('adopting a live pack marks it verified in the session without new index rows', async () => {
    const store = getStore();
    const a = tenant();
    const { pack } = await pushVersion(store, a);
    const s = await store.createSession(newSession(a));
    await store.addSessionPacks(a, s.id, [pack]);
    expect(await store.adoptLivePack(a, s.id, pack.id)).toBe(true);
    expect(await store.listSessionPacks(a, s.id, { limit: 10 })).toEqual([
      { id: pack.id, size: pack.size, state: 'verified' },
    ]);
    expect(await store.adoptLivePack(a, s.id, digest('unknown'))).toBe(false);
  });
}
