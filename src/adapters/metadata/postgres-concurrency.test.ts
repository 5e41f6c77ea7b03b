import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PackedChunk } from '../../core/types.js';
import { TroveError } from '../../errors.js';
import type { SessionRecord } from '../../ports/metadata-store.js';
import { acquireTestDatabase, type TestDatabase } from '../../testing/postgres-server.js';
import { openPostgresStore, type PostgresStore, postgresSqlClient } from './postgres.js';
import { SqlMetadataStore } from './sql-store.js';
import { digest } from './testing/fixtures.js';

// Races PGlite's single connection serializes away: here every call below
// runs on its own pooled connection at the same time.
let db: TestDatabase;
let pgs: PostgresStore;
let n = 0;
const tenant = () => `race-${process.pid}-${++n}`;

beforeAll(async () => {
  db = await acquireTestDatabase();
  pgs = await openPostgresStore({ connectionString: db.url, poolSize: 16 });
});
afterAll(async () => {
  await pgs?.store.close();
  await db?.drop();
});

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    return err instanceof TroveError ? err.code : `non-trove: ${String(err)}`;
  }
}

async function openSession(
  t: string,
  over: Partial<Pick<SessionRecord, 'versionId' | 'expectedHead' | 'onConflict' | 'storage'>>,
) {
  const s = await pgs.store.createSession({
    tenant: t,
    storage: 'ws',
    versionId: digest('v'),
    manifestSize: 1,
    expectedHead: null,
    onConflict: 'fail',
    message: 'race',
    expiresAt: new Date(Date.now() + 3_600_000),
    ...over,
  });
  await pgs.store.saveCommitProgress(t, s.id, { entriesChecked: 0, manifestValid: true }, []);
  return s;
}

function commit(t: string, s: SessionRecord) {
  const version = { id: s.versionId, manifestSize: 1, size: 0, files: 0, entries: 0, chunkRefs: 0 };
  return pgs.store.finalizeCommit({
    tenant: t,
    sessionId: s.id,
    version,
    archiveFormats: ['tar.zst'],
    bytesUploaded: 0,
  });
}

async function historyOf(t: string, storage = 'ws') {
  const h = await pgs.store.listHistory(t, storage, { limit: 1000 });
  return h.reverse();
}

describe('PostgreSQL under real concurrency', () => {
  it('10 commits racing on one head: one winner per round, history without gaps', async () => {
    const t = tenant();
    let head: string | null = null;
    for (let round = 0; round < 3; round++) {
      const sessions = await Promise.all(
        Array.from({ length: 10 }, () => openSession(t, { expectedHead: head })),
      );
      const codes = await Promise.all(sessions.map((s) => codeOf(commit(t, s))));
      expect(codes.filter((c) => c === 'ok')).toHaveLength(1);
      expect(codes.filter((c) => c === 'head_conflict')).toHaveLength(9);
      const winner = sessions[codes.indexOf('ok')]!;
      const losers = sessions.filter((s) => s !== winner);
      for (const s of losers) expect(await pgs.store.getVersion(t, s.versionId)).toBeNull();
      expect((await pgs.store.getStorage(t, 'ws'))?.head).toBe(winner.versionId);
      head = winner.versionId;
    }
    const history = await historyOf(t);
    expect(history.map((h) => h.seq)).toEqual([1, 2, 3]);
    expect(history[1]?.parent).toBe(history[0]?.version.id);
    expect(history[2]?.parent).toBe(history[1]?.version.id);
  });

  it('10 forced pushes at once all land, each with its own history entry', async () => {
    const t = tenant();
    const sessions = await Promise.all(
      Array.from({ length: 10 }, () => openSession(t, { onConflict: 'force' })),
    );
    const outcomes = await Promise.all(sessions.map((s) => commit(t, s)));
    expect(outcomes.map((o) => o.seq).sort((a, b) => a! - b!)).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
    ]);
    const history = await historyOf(t);
    expect(history.map((h) => h.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    // Each outcome's previous head is the entry just below it: no lost update.
    for (const o of outcomes) {
      const below = history.find((h) => h.seq === o.seq! - 1);
      expect(o.previousHead).toBe(below?.version.id ?? null);
    }
    expect((await pgs.store.getStorage(t, 'ws'))?.entries).toBe(10);
  });

  it('the same version committed by two sessions at once is created once', async () => {
    const t = tenant();
    const versionId = digest('same');
    for (const storages of [
      ['ws', 'ws'],
      ['a', 'b'],
    ]) {
      const [s1, s2] = await Promise.all(
        storages.map((storage) => openSession(t, { versionId, storage })),
      );
      const outcomes = await Promise.all([commit(t, s1!), commit(t, s2!)]);
      expect(outcomes.every((o) => o.versionId === versionId)).toBe(true);
      if (storages[0] === storages[1]) {
        expect(outcomes.filter((o) => o.created)).toHaveLength(1);
        expect(outcomes.map((o) => o.seq).sort()).toEqual([1, null]);
        expect((await historyOf(t)).map((h) => h.seq)).toEqual([1]);
      } else {
        expect(outcomes.every((o) => !o.created && o.seq === 1)).toBe(true);
      }
    }
    expect(await pgs.store.listArchives(t, versionId)).toHaveLength(1);
  });

  it('one session committed by two callers at once gives one outcome', async () => {
    const t = tenant();
    const s = await openSession(t, {});
    const [a, b] = await Promise.all([commit(t, s), commit(t, s)]);
    expect(a).toEqual(b);
    expect((await pgs.store.getStorage(t, 'ws'))?.entries).toBe(1);
  });

  it('packs sharing chunks in opposite orders index each chunk once, without deadlock', async () => {
    const t = tenant();
    const shared: PackedChunk[] = Array.from({ length: 200 }, (_, i) => ({
      digest: digest('c'),
      offset: i * 10,
      storedSize: 10,
      rawSize: 20,
      codec: 'zstd',
    }));
    const sessions = await Promise.all(Array.from({ length: 6 }, () => openSession(t, {})));
    const packs = sessions.map(() => ({ id: digest('p'), size: 2000 }));
    // No retry: a deadlock would surface as 40P01 instead of being absorbed.
    const strict = new SqlMetadataStore(postgresSqlClient(pgs.pool, { maxAttempts: 1 }));
    await Promise.all(
      sessions.map((s, i) =>
        strict.recordVerifiedPack(t, s.id, packs[i]!, i % 2 ? [...shared].reverse() : shared),
      ),
    );
    const found = await pgs.store.findChunks(
      t,
      shared.map((c) => c.digest),
    );
    expect(found).toHaveLength(shared.length);
    // All from one pack: the first transaction to insert a chunk wins every chunk it shares.
    const owners = new Set(found.map((c) => c.packId));
    expect([...owners].every((p) => packs.some((x) => x.id === p))).toBe(true);
  });

  it('declaring overlapping packs of one session concurrently does not deadlock', async () => {
    const t = tenant();
    const s = await openSession(t, {});
    const packs = Array.from({ length: 2000 }, () => ({ id: digest('p'), size: 1 }));
    const strict = new SqlMetadataStore(postgresSqlClient(pgs.pool, { maxAttempts: 1 }));
    await Promise.all(
      [0, 1, 2, 3, 4, 5, 6, 7].map((i) =>
        strict.addSessionPacks(t, s.id, i % 2 ? [...packs].reverse() : packs),
      ),
    );
    expect(await pgs.store.listSessionPacks(t, s.id, { limit: 5000 })).toHaveLength(2000);
  });

  it('progress saved out of order never moves backwards', async () => {
    const t = tenant();
    const s = await openSession(t, {});
    await Promise.all(
      [5, 40, 10, 30, 20].map((entriesChecked) =>
        pgs.store.saveCommitProgress(t, s.id, { entriesChecked, manifestValid: true }, [
          digest('p'),
        ]),
      ),
    );
    expect((await pgs.store.getSession(t, s.id))?.progress.entriesChecked).toBe(40);
  });

  it('a deadlock between two transactions is retried, both commit', async () => {
    await pgs.sql.query('CREATE TABLE IF NOT EXISTS dl (k int PRIMARY KEY, v int)');
    await pgs.sql.query('INSERT INTO dl VALUES (1, 0), (2, 0) ON CONFLICT DO NOTHING');
    let arrived = 0;
    let release!: () => void;
    const bothLocked = new Promise<void>((r) => {
      release = r;
    });
    const cross = (first: number, second: number) =>
      pgs.sql.transaction(async (tx) => {
        await tx.query('UPDATE dl SET v = v + 1 WHERE k = $1', [first]);
        if (++arrived === 2) release();
        await bothLocked;
        await tx.query('UPDATE dl SET v = v + 1 WHERE k = $1', [second]);
      });
    await Promise.all([cross(1, 2), cross(2, 1)]);
    const r = await pgs.sql.query<{ v: number }>('SELECT v FROM dl ORDER BY k');
    expect(r.rows.map((x) => x.v)).toEqual([2, 2]);
  });
});
