import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openPgliteStore } from './pglite.js';
import { runMetadataStoreConformance } from './testing/conformance.js';
import { pushVersion } from './testing/fixtures.js';

runMetadataStoreConformance('PGlite in memory', async () => {
  const { store } = await openPgliteStore();
  return { store, close: () => store.close() };
});

runMetadataStoreConformance('PGlite on disk, reopened', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'trove-pglite-'));
  // Write something, close, reopen: the suite then runs on the reopened database.
  const first = await openPgliteStore({ dataDir: dir });
  await pushVersion(first.store, 'persisted');
  await first.store.close();
  const { store } = await openPgliteStore({ dataDir: dir });
  const st = await store.getStorage('persisted', 'ws');
  if (st?.entries !== 1) throw new Error('data did not survive reopening');
  return {
    store,
    close: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

describe('pgliteSqlClient', () => {
  it('a query from outside waits for a running transaction instead of joining it', async () => {
    const { sql, store } = await openPgliteStore();
    await sql.query('CREATE TABLE t (x integer)');
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const tx = sql.transaction(async (t) => {
      await t.query('INSERT INTO t VALUES (1)');
      await gate;
      throw new Error('roll back');
    });
    const outside = sql.query<{ n: number }>('SELECT count(*)::int AS n FROM t');
    await new Promise((r) => setTimeout(r, 20));
    release();
    await expect(tx).rejects.toThrow('roll back');
    // Had it joined the transaction it would have seen the uncommitted row.
    expect((await outside).rows[0]?.n).toBe(0);
    await store.close();
  });
});
