import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TroveError } from '../../../errors.js';
import type { MetadataStore } from '../../../ports/metadata-store.js';
import {
  archiveEvictionRaceConformance,
  archiveRetentionConformance,
} from './archive-conformance.js';
import { chunksOf, codeOf, digest, newSession, pushVersion } from './fixtures.js';
import { packStateConformance } from './pack-state-conformance.js';

/** A store under test and how to dispose of it. */
export interface OpenedStore {
  /** The store, already migrated. */
  store: MetadataStore;
  /** Closes the store and removes anything it created. */
  close(): Promise<void>;
}

/**
 * The behaviour every MetadataStore adapter must have. `open` returns a fresh,
 * migrated store; each test uses its own tenant so tests may share one store.
 */
export function runMetadataStoreConformance(name: string, open: () => Promise<OpenedStore>): void {
  describe(`MetadataStore conformance: ${name}`, () => {
    let opened: OpenedStore;
    let store: MetadataStore;
    let t = 0;
    const tenant = () => `tenant-${Date.now()}-${++t}`;

    beforeAll(async () => {
      opened = await open();
      store = opened.store;
    });
    afterAll(async () => {
      await opened?.close();
    });

    it('migrate is idempotent and ping answers', async () => {
      await store.migrate();
      await store.ping();
      await store.ensureTenant('x');
      await store.ensureTenant('x');
    });

    it('commits a version, moves head and records history', async () => {
      const a = tenant();
      const { session, pack, outcome } = await pushVersion(store, a);
      expect(outcome).toEqual({
        versionId: session.versionId,
        storage: 'ws',
        created: true,
        seq: 1,
        previousHead: null,
      });
      const st = await store.getStorage(a, 'ws');
      expect(st).toMatchObject({ tenant: a, name: 'ws', head: session.versionId, entries: 1 });
      const v = await store.getVersion(a, session.versionId);
      expect(v).toMatchObject({ id: session.versionId, size: 60, files: 3, chunkRefs: 3 });
      expect(v?.createdAt).toBeInstanceOf(Date);
      expect(await store.listVersionPacks(a, session.versionId)).toEqual([pack.id]);
      const hist = await store.listHistory(a, 'ws', { limit: 10 });
      expect(hist).toHaveLength(1);
      expect(hist[0]).toMatchObject({ seq: 1, parent: null, message: 'push', bytesUploaded: 1000 });
      expect(hist[0]?.version.id).toBe(session.versionId);
      const s = await store.getSession(a, session.id);
      expect(s?.state).toBe('committed');
      expect(s?.outcome).toEqual(outcome);
      expect(s?.progress).toEqual({ entriesChecked: 3, manifestValid: true });
    });

    it('finalizeCommit is idempotent', async () => {
      const a = tenant();
      const { session, outcome } = await pushVersion(store, a);
      const again = await store.finalizeCommit({
        tenant: a,
        sessionId: session.id,
        version: {
          id: session.versionId,
          manifestSize: 100,
          size: 60,
          files: 3,
          entries: 4,
          chunkRefs: 3,
        },
        archiveFormats: ['tar.zst'],
        bytesUploaded: 1000,
      });
      expect(again).toEqual(outcome);
      expect((await store.getStorage(a, 'ws'))?.entries).toBe(1);
    });

    it('refuses a missing, expired or foreign session', async () => {
      const a = tenant();
      const version = {
        id: digest(),
        manifestSize: 1,
        size: 0,
        files: 0,
        entries: 0,
        chunkRefs: 0,
      };
      const base = { tenant: a, version, archiveFormats: [], bytesUploaded: 0 };
      expect(await codeOf(store.finalizeCommit({ ...base, sessionId: 'nope' }))).toBe(
        'session_not_found',
      );
      const missing = '00000000-0000-4000-8000-000000000000';
      expect(await codeOf(store.finalizeCommit({ ...base, sessionId: missing }))).toBe(
        'session_not_found',
      );
      const expired = await store.createSession(
        newSession(a, { versionId: version.id, expiresAt: new Date(Date.now() - 1000) }),
      );
      expect(await codeOf(store.finalizeCommit({ ...base, sessionId: expired.id }))).toBe(
        'session_not_found',
      );
      expect(await codeOf(store.addSessionPacks(a, expired.id, [{ id: digest(), size: 1 }]))).toBe(
        'session_not_found',
      );
      const open = await store.createSession(newSession(a, { versionId: version.id }));
      const b = tenant();
      expect(await store.getSession(b, open.id)).toBeNull();
      expect(await codeOf(store.finalizeCommit({ ...base, tenant: b, sessionId: open.id }))).toBe(
        'session_not_found',
      );
    });

    it('stores a commit failure and counts session packs, scoped to the tenant', async () => {
      const a = tenant();
      const s = await store.createSession(newSession(a));
      expect(s.commitFailure).toBeNull();
      const pack = { id: digest('p'), size: 10 };
      await store.addSessionPacks(a, s.id, [pack, { id: digest('q'), size: 10 }]);
      await store.recordVerifiedPack(a, s.id, pack, chunksOf(2));
      expect(await store.sessionPackTotals(a, s.id)).toEqual({ packs: 2, verified: 1, bytes: 20 });
      expect(await store.sessionPackTotals(tenant(), s.id)).toEqual({
        packs: 0,
        verified: 0,
        bytes: 0,
      });
      const failure = {
        code: 'missing_chunks' as const,
        message: '2 chunks are referenced but not stored',
        details: { missing: [digest('m')], count: 2 },
        packsVerified: 1,
        progress: { entriesChecked: 4, refsChecked: 7, manifestValid: true },
      };
      await store.saveCommitFailure(a, s.id, failure);
      await store.saveCommitFailure(tenant(), s.id, null);
      expect((await store.getSession(a, s.id))?.commitFailure).toEqual(failure);
      await store.saveCommitFailure(a, s.id, null);
      expect((await store.getSession(a, s.id))?.commitFailure).toBeNull();
    });

    it('commit progress with refs inside an entry only moves forward', async () => {
      const a = tenant();
      const s = await store.createSession(newSession(a));
      const save = (entriesChecked: number, refsChecked: number) =>
        store.saveCommitProgress(a, s.id, { entriesChecked, refsChecked, manifestValid: true }, []);
      await save(3, 5);
      await save(3, 2);
      expect((await store.getSession(a, s.id))?.progress).toMatchObject({
        entriesChecked: 3,
        refsChecked: 5,
      });
      await save(4, 0);
      await save(3, 9);
      expect((await store.getSession(a, s.id))?.progress).toMatchObject({
        entriesChecked: 4,
        refsChecked: 0,
      });
    });

    it('head compare-and-set: conflict, force, and same-head no-op', async () => {
      const a = tenant();
      const first = await pushVersion(store, a);
      const v1 = first.session.versionId;
      // Stale expected head (null) fails and changes nothing.
      const stale = store.createSession(newSession(a, { expectedHead: null }));
      const s2 = await stale;
      await store.saveCommitProgress(a, s2.id, { entriesChecked: 0, manifestValid: true }, []);
      const version = {
        id: s2.versionId,
        manifestSize: 1,
        size: 0,
        files: 0,
        entries: 0,
        chunkRefs: 0,
      };
      const input = { tenant: a, sessionId: s2.id, version, archiveFormats: [], bytesUploaded: 0 };
      const err = await store.finalizeCommit(input).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TroveError);
      expect((err as TroveError).code).toBe('head_conflict');
      expect((err as TroveError).details).toEqual({ head: v1, expected: null });
      expect(await store.getVersion(a, s2.versionId)).toBeNull();
      expect((await store.getSession(a, s2.id))?.state).toBe('open');

      // Forced push records the expected head as parent and reports the real previous head.
      const forced = await pushVersion(store, a, { expectedHead: null, onConflict: 'force' });
      expect(forced.outcome).toMatchObject({ seq: 2, previousHead: v1, created: true });
      const [top] = await store.listHistory(a, 'ws', { limit: 1 });
      expect(top?.parent).toBeNull();

      // Pushing the current head again: no history entry.
      const v2 = forced.session.versionId;
      const same = await store.recordExistingVersion({
        tenant: a,
        storage: 'ws',
        versionId: v2,
        expectedHead: v1,
        onConflict: 'fail',
        message: 'again',
        archiveFormats: [],
      });
      expect(same).toEqual({
        versionId: v2,
        storage: 'ws',
        created: false,
        seq: null,
        previousHead: v2,
      });
      expect((await store.getStorage(a, 'ws'))?.entries).toBe(2);
    });

    it('recordExistingVersion moves head in another storage and checks the CAS', async () => {
      const a = tenant();
      const { session } = await pushVersion(store, a);
      const rec = {
        tenant: a,
        storage: 'other',
        versionId: session.versionId,
        expectedHead: null,
        onConflict: 'fail' as const,
        message: 'reuse',
        archiveFormats: ['tar.gz' as const],
      };
      const out = await store.recordExistingVersion(rec);
      expect(out).toEqual({
        versionId: session.versionId,
        storage: 'other',
        created: false,
        seq: 1,
        previousHead: null,
      });
      const formats = (await store.listArchives(a, session.versionId)).map((x) => x.format);
      expect(formats).toEqual(['tar.gz', 'tar.zst']);
      const other = await pushVersion(store, a, {
        storage: 'other',
        expectedHead: session.versionId,
      });
      expect(await codeOf(store.recordExistingVersion(rec))).toBe('head_conflict');
      expect(await codeOf(store.recordExistingVersion({ ...rec, versionId: digest() }))).toBe(
        'version_not_found',
      );
      expect((await store.getStorage(a, 'other'))?.head).toBe(other.session.versionId);
    });

    it('concurrent commits to one storage: one wins, the other gets head_conflict', async () => {
      const a = tenant();
      const prepare = async () => {
        const s = await store.createSession(newSession(a, { storage: 'race' }));
        await store.saveCommitProgress(a, s.id, { entriesChecked: 0, manifestValid: true }, []);
        return s;
      };
      const [s1, s2] = await Promise.all([prepare(), prepare()]);
      const commit = (s: typeof s1) =>
        store.finalizeCommit({
          tenant: a,
          sessionId: s.id,
          version: {
            id: s.versionId,
            manifestSize: 1,
            size: 0,
            files: 0,
            entries: 0,
            chunkRefs: 0,
          },
          archiveFormats: [],
          bytesUploaded: 0,
        });
      const codes = await Promise.all([codeOf(commit(s1)), codeOf(commit(s2))]);
      expect(codes.sort()).toEqual(['head_conflict', 'ok']);
      const st = await store.getStorage(a, 'race');
      expect(st?.entries).toBe(1);
    });

    it('history pages newest first and prefix lookup finds distinct versions', async () => {
      const a = tenant();
      const ids: string[] = [];
      let head: string | null = null;
      for (let i = 0; i < 5; i++) {
        const { session } = await pushVersion(store, a, { expectedHead: head, message: `m${i}` });
        ids.push(session.versionId);
        head = session.versionId;
      }
      // Re-push the first version: it appears twice in history.
      await store.recordExistingVersion({
        tenant: a,
        storage: 'ws',
        versionId: ids[0]!,
        expectedHead: head,
        onConflict: 'fail',
        message: 'back',
        archiveFormats: [],
      });
      const page1 = await store.listHistory(a, 'ws', { limit: 4 });
      expect(page1.map((h) => h.seq)).toEqual([6, 5, 4, 3]);
      const page2 = await store.listHistory(a, 'ws', { beforeSeq: 3, limit: 4 });
      expect(page2.map((h) => h.seq)).toEqual([2, 1]);
      expect(page2[1]?.message).toBe('m0');

      const first = ids[0]!;
      const byPrefix = await store.findHistoryByPrefix(a, 'ws', first.slice(0, 12), 10);
      expect(byPrefix).toHaveLength(1);
      expect(byPrefix[0]).toMatchObject({ seq: 6 });
      const all = await store.findHistoryByPrefix(a, 'ws', '', 10);
      expect(all.map((h) => h.seq)).toEqual([6, 5, 4, 3, 2]);
      expect(await store.findHistoryByPrefix(a, 'ws', '%', 10)).toEqual([]);
      expect(await store.findHistoryByPrefix(a, 'nope', first.slice(0, 8), 10)).toEqual([]);
    });

    it('lists storages by name with paging', async () => {
      const a = tenant();
      for (const s of ['c', 'a', 'b']) await pushVersion(store, a, { storage: s });
      expect((await store.listStorages(a, { limit: 2 })).map((s) => s.name)).toEqual(['a', 'b']);
      expect((await store.listStorages(a, { after: 'b', limit: 2 })).map((s) => s.name)).toEqual([
        'c',
      ]);
      expect(await store.getStorage(a, 'zzz')).toBeNull();
    });

    it('chunk index: one query, first location wins, absent omitted', async () => {
      const a = tenant();
      const chunks = chunksOf(3);
      const { session } = await pushVersion(store, a, {}, chunks);
      const [packId] = await store.listVersionPacks(a, session.versionId);
      // A second pack carrying the same first chunk at another offset.
      const s = await store.createSession(newSession(a));
      const dup = { id: digest('p'), size: 5 };
      await store.recordVerifiedPack(a, s.id, dup, [{ ...chunks[0]!, offset: 999 }]);
      const found = await store.findChunks(a, [chunks[0]!.digest, chunks[1]!.digest, digest()]);
      expect(found).toHaveLength(2);
      const first = found.find((c) => c.digest === chunks[0]!.digest);
      expect(first).toEqual({ ...chunks[0]!, packId, packState: 'live' });
      expect(await store.findChunks(a, [])).toEqual([]);
      const packs = await store.listSessionPacks(a, s.id, { limit: 10 });
      expect(packs).toEqual([{ id: dup.id, size: 5, state: 'verified' }]);
    });

    it('checkChunks: packs, missing digests and size mismatches in one answer', async () => {
      const a = tenant();
      const chunks = chunksOf(3);
      const { session } = await pushVersion(store, a, {}, chunks);
      const [packId] = await store.listVersionPacks(a, session.versionId);
      const other = await store.createSession(newSession(a));
      const second = { id: digest('p'), size: 5 };
      const extra = chunksOf(1);
      await store.recordVerifiedPack(a, other.id, second, extra);
      const absent = [digest(), digest()].sort();
      const ok = [...chunks, ...extra].map((c) => ({ digest: c.digest, size: c.rawSize }));
      expect(
        await store.checkChunks(a, [...ok, ...absent.map((d) => ({ digest: d, size: 1 }))]),
      ).toEqual({
        packs: [packId, second.id].sort(),
        missing: absent,
        sizeMismatch: null,
      });
      const wrong = { digest: chunks[1]!.digest, size: 21 };
      expect((await store.checkChunks(a, [ok[0]!, wrong])).sizeMismatch).toEqual({
        digest: chunks[1]!.digest,
        declared: 21,
        stored: 20,
      });
      expect(await store.checkChunks(a, [])).toEqual({
        packs: [],
        missing: [],
        sizeMismatch: null,
      });
      // Another tenant is told nothing is stored.
      const b = tenant();
      expect(await store.checkChunks(b, ok)).toEqual({
        packs: [],
        missing: ok.map((c) => c.digest).sort(),
        sizeMismatch: null,
      });
    });

    it('session packs: dedup, state filter, paging', async () => {
      const a = tenant();
      const s = await store.createSession(newSession(a));
      const ids = [digest(), digest(), digest()].sort();
      await store.addSessionPacks(
        a,
        s.id,
        ids.map((id) => ({ id, size: 7 })),
      );
      await store.addSessionPacks(a, s.id, [{ id: ids[0]!, size: 7 }]);
      await store.recordVerifiedPack(a, s.id, { id: ids[1]!, size: 7 }, chunksOf(1));
      const all = await store.listSessionPacks(a, s.id, { limit: 10 });
      expect(all.map((p) => p.id)).toEqual(ids);
      const pending = await store.listSessionPacks(a, s.id, { state: 'pending', limit: 10 });
      expect(pending.map((p) => p.id)).toEqual([ids[0], ids[2]]);
      const after = await store.listSessionPacks(a, s.id, { after: ids[0]!, limit: 1 });
      expect(after.map((p) => p.id)).toEqual([ids[1]]);
    });

    it('tenant isolation: B never sees A', async () => {
      const a = tenant();
      const b = tenant();
      const chunks = chunksOf(2);
      const { session } = await pushVersion(store, a, {}, chunks);
      expect(
        await store.findChunks(
          b,
          chunks.map((c) => c.digest),
        ),
      ).toEqual([]);
      expect(await store.getStorage(b, 'ws')).toBeNull();
      expect(await store.listStorages(b, { limit: 10 })).toEqual([]);
      expect(await store.getVersion(b, session.versionId)).toBeNull();
      expect(await store.listHistory(b, 'ws', { limit: 10 })).toEqual([]);
      expect(await store.findHistoryByPrefix(b, 'ws', '', 10)).toEqual([]);
      expect(await store.listVersionPacks(b, session.versionId)).toEqual([]);
      expect(await store.listArchives(b, session.versionId)).toEqual([]);
      expect(await store.getSession(b, session.id)).toBeNull();
      expect(await store.listSessionPacks(b, session.id, { limit: 10 })).toEqual([]);
      expect(await store.updateArchive(b, session.versionId, 'tar.zst', { state: 'ready' })).toBe(
        false,
      );
      // B storing the same chunks gets its own rows; A's are untouched.
      const other = await pushVersion(store, b, { versionId: session.versionId }, chunks);
      expect(other.outcome.created).toBe(true);
      const bChunks = await store.findChunks(b, [chunks[0]!.digest]);
      expect(bChunks[0]?.packId).toBe(other.pack.id);
      const aChunks = await store.findChunks(a, [chunks[0]!.digest]);
      expect(aChunks[0]?.packId).not.toBe(other.pack.id);
      expect(
        await codeOf(
          store.recordExistingVersion({
            tenant: tenant(),
            storage: 'ws',
            versionId: session.versionId,
            expectedHead: null,
            onConflict: 'fail',
            message: '',
            archiveFormats: [],
          }),
        ),
      ).toBe('version_not_found');
    });

    it('archives: pending on commit, updates and staleness', async () => {
      const a = tenant();
      const { session } = await pushVersion(store, a);
      const [arch] = await store.listArchives(a, session.versionId);
      expect(arch).toMatchObject({ format: 'tar.zst', state: 'pending', size: null, sha256: null });
      const stale = await store.listStaleArchives(new Date(Date.now() + 60_000), 1000);
      expect(stale.some((x) => x.tenant === a && x.versionId === session.versionId)).toBe(true);
      const notYet = await store.listStaleArchives(new Date(Date.now() - 60_000), 1000);
      expect(notYet.some((x) => x.tenant === a)).toBe(false);
      expect(
        await store.updateArchive(a, session.versionId, 'tar.zst', { state: 'building' }),
      ).toBe(true);
      const sha = digest();
      await store.updateArchive(a, session.versionId, 'tar.zst', {
        state: 'ready',
        size: 12345,
        sha256: sha,
      });
      const [ready] = await store.listArchives(a, session.versionId);
      expect(ready).toMatchObject({ state: 'ready', size: 12345, sha256: sha, error: null });
      expect(ready!.updatedAt.getTime()).toBeGreaterThanOrEqual(arch!.updatedAt.getTime());
      const after = await store.listStaleArchives(new Date(Date.now() + 60_000), 1000);
      expect(after.some((x) => x.tenant === a)).toBe(false);
      expect(await store.updateArchive(a, digest(), 'tar.zst', { state: 'failed' })).toBe(false);
    });

    it('a ready archive stays ready when a stale worker reports building or failed', async () => {
      const a = tenant();
      const { session } = await pushVersion(store, a);
      const sha = digest();
      await store.updateArchive(a, session.versionId, 'tar.zst', {
        state: 'ready',
        size: 7,
        sha256: sha,
      });
      for (const state of ['building', 'failed', 'pending'] as const) {
        expect(await store.updateArchive(a, session.versionId, 'tar.zst', { state })).toBe(true);
      }
      const [row] = await store.listArchives(a, session.versionId);
      expect(row).toMatchObject({ state: 'ready', size: 7, sha256: sha });
      // A second build finishing rewrites the same object: its numbers win.
      await store.updateArchive(a, session.versionId, 'tar.zst', { state: 'ready', size: 8 });
      expect((await store.listArchives(a, session.versionId))[0]?.size).toBe(8);
    });

    archiveRetentionConformance(() => store, tenant);
    archiveEvictionRaceConformance(() => store, tenant);
    packStateConformance(() => store, tenant);

    it('commit progress only moves forward', async () => {
      const a = tenant();
      const s = await store.createSession(newSession(a));
      const save = (entriesChecked: number, manifestValid: boolean) =>
        store.saveCommitProgress(a, s.id, { entriesChecked, manifestValid }, [digest('p')]);
      await save(0, true);
      await save(50, true);
      await save(20, true);
      await save(60, false);
      expect((await store.getSession(a, s.id))?.progress).toEqual({
        entriesChecked: 50,
        manifestValid: true,
      });
      await save(70, true);
      expect((await store.getSession(a, s.id))?.progress.entriesChecked).toBe(70);
    });

    it('commit refuses packs that are not live', async () => {
      const a = tenant();
      const s = await store.createSession(newSession(a));
      const ghost = digest('p');
      await store.saveCommitProgress(a, s.id, { entriesChecked: 1, manifestValid: true }, [ghost]);
      const code = await codeOf(
        store.finalizeCommit({
          tenant: a,
          sessionId: s.id,
          version: {
            id: s.versionId,
            manifestSize: 1,
            size: 0,
            files: 0,
            entries: 0,
            chunkRefs: 0,
          },
          archiveFormats: [],
          bytesUploaded: 0,
        }),
      );
      expect(code).toBe('missing_chunks');
      expect(await store.getVersion(a, s.versionId)).toBeNull();
    });
  });
}
