import { describe, expect, it } from 'vitest';
import { loadMigrations, runMigrations } from './migrations.js';
import { openPglite, pgliteSqlClient } from './pglite.js';
import { SqlMetadataStore } from './sql-store.js';

const hex = (c: string) => c.repeat(64);

// A database written by the previous release (schema 001-002) opens after
// this release's migrations (003 stored commit failure, 004 missing packs),
// and every row it held reads and works as before.
describe('upgrading a database of the previous release', () => {
  it('keeps its versions, packs, index and open sessions usable', async () => {
    const db = await openPglite();
    const sql = pgliteSqlClient(db);
    try {
      const all = loadMigrations();
      await runMigrations(
        sql,
        all.filter((m) => m.id <= 2),
      );
      const [v, p, c1, c2] = [hex('a'), hex('b'), hex('c'), hex('d')];
      const session = '0b6f2c9e-6d1a-4c3b-9f3e-2a7d5c1e8b40';
      for (const [text, params] of [
        ["INSERT INTO tenants (tenant_id) VALUES ('t')", []],
        [
          `INSERT INTO versions (tenant_id, id, manifest_size, size, files, entries, chunk_refs)
           VALUES ('t', $1, 10, 40, 2, 2, 2)`,
          [v],
        ],
        ["INSERT INTO storages (tenant_id, name, head, entries) VALUES ('t', 'ws', $1, 1)", [v]],
        [
          "INSERT INTO history (tenant_id, storage, seq, version_id) VALUES ('t', 'ws', 1, $1)",
          [v],
        ],
        ["INSERT INTO packs (tenant_id, id, size, chunk_count) VALUES ('t', $1, 100, 2)", [p]],
        [
          `INSERT INTO chunks (tenant_id, digest, pack_id, "offset", stored_size, raw_size, codec)
           VALUES ('t', $1, $3, 0, 10, 20, 'zstd'), ('t', $2, $3, 10, 10, 20, 'raw')`,
          [c1, c2, p],
        ],
        ["INSERT INTO version_packs (tenant_id, version_id, pack_id) VALUES ('t', $1, $2)", [v, p]],
        [
          `INSERT INTO upload_sessions (tenant_id, id, storage, version_id, manifest_size,
             expected_head, on_conflict, expires_at)
           VALUES ('t', $1, 'ws', $2, 10, $3, 'fail', now() + interval '1 hour')`,
          [session, hex('e'), v],
        ],
        [
          "INSERT INTO session_packs (tenant_id, session_id, pack_id, size) VALUES ('t', $1, $2, 100)",
          [session, hex('f')],
        ],
      ] as const) {
        await sql.query(text, [...params]);
      }

      expect(await runMigrations(sql)).toEqual(all.filter((m) => m.id > 2).map((m) => m.id));
      const store = new SqlMetadataStore(sql);
      expect(await store.getStorage('t', 'ws')).toMatchObject({ head: v, entries: 1 });
      expect(await store.getPacks('t', [p])).toEqual([{ id: p, size: 100, state: 'live' }]);
      expect((await store.findChunks('t', [c1, c2])).map((c) => c.packState)).toEqual([
        'live',
        'live',
      ]);
      expect(
        await store.checkChunks('t', [
          { digest: c1, size: 20 },
          { digest: c2, size: 20 },
        ]),
      ).toEqual({ packs: [p], missing: [], sizeMismatch: null });
      expect(await store.listMissingVersionPacks('t', v)).toEqual([]);
      const open = await store.getSession('t', session);
      expect(open).toMatchObject({ state: 'open', commitFailure: null });
      expect(await store.sessionPackTotals('t', session)).toEqual({
        packs: 1,
        verified: 0,
        bytes: 100,
      });
      // The new pack state fits the old rows.
      expect(await store.markPacksMissing('t', [p])).toEqual([p]);
      expect(await store.listMissingVersionPacks('t', v)).toEqual([p]);
    } finally {
      await db.close();
    }
  });
});
