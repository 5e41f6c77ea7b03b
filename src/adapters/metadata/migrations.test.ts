import { describe, expect, it } from 'vitest';
import { loadMigrations, runMigrations, splitStatements } from './migrations.js';
import { openPgliteStore } from './pglite.js';

describe('migrations', () => {
  it('splits scripts on top-level semicolons only', () => {
    const script = `-- a comment; with a semicolon
      CREATE TABLE a (x text DEFAULT 'a;b');
      CREATE TABLE "we;ird" (y int); ;
      SELECT 'it''s; fine'`;
    expect(splitStatements(script)).toEqual([
      "CREATE TABLE a (x text DEFAULT 'a;b')",
      'CREATE TABLE "we;ird" (y int)',
      "SELECT 'it''s; fine'",
    ]);
  });

  it('loads the numbered files in order', () => {
    const all = loadMigrations();
    expect(all[0]).toMatchObject({ id: 1, name: 'initial' });
    expect(all.map((m) => m.id)).toEqual([...all.map((m) => m.id)].sort((a, b) => a - b));
  });

  it('applies each migration once, even when run concurrently', async () => {
    const { sql, store } = await openPgliteStore();
    const again = await Promise.all([runMigrations(sql), runMigrations(sql)]);
    expect(again).toEqual([[], []]);
    const rows = await sql.query<{ id: number }>('SELECT id FROM schema_migrations ORDER BY id');
    expect(rows.rows.map((r) => r.id)).toEqual(loadMigrations().map((m) => m.id));
    await store.close();
  });
});
