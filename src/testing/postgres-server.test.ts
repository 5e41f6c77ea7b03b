import { existsSync } from 'node:fs';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { acquireTestDatabase, withDatabase } from './postgres-server.js';
import { hasPostgresBinaries, startThrowawayPostgres } from './postgres-throwaway.js';

async function currentDatabase(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const r = await client.query<{ db: string }>('SELECT current_database() AS db');
    return r.rows[0]!.db;
  } finally {
    await client.end();
  }
}

describe('test database harness', () => {
  it('gives each caller its own database and drops it even with connections open', async () => {
    const [a, b] = await Promise.all([acquireTestDatabase(), acquireTestDatabase()]);
    const nameA = await currentDatabase(a.url);
    expect(nameA).toMatch(/^trove_t_\d+_[0-9a-f]{12}$/);
    expect(await currentDatabase(b.url)).not.toBe(nameA);
    const open = new pg.Client({ connectionString: a.url });
    open.on('error', () => undefined);
    await open.connect();
    await a.drop();
    await a.drop();
    await expect(currentDatabase(a.url)).rejects.toMatchObject({ code: '3D000' });
    await open.end().catch(() => undefined);
    await b.drop();
  });

  it('keeps credentials and options when pointing the URL at another database', () => {
    expect(withDatabase('postgres://u:p%40ss@h:5433/admin?sslmode=disable', 'x')).toBe(
      'postgres://u:p%40ss@h:5433/x?sslmode=disable',
    );
    expect(() => withDatabase('host=h dbname=d', 'x')).toThrow('TROVE_TEST_DATABASE_URL');
  });

  // Whatever TROVE_TEST_DATABASE_URL says, the fallback must work where the
  // binaries exist: it is what a developer without a server gets. (Without
  // the variable, missing binaries already fail the first test loudly.)
  it.runIf(hasPostgresBinaries())('starts one throwaway server per process', async () => {
    const [first, second] = await Promise.all([startThrowawayPostgres(), startThrowawayPostgres()]);
    expect(second).toBe(first);
    expect(existsSync(first.dir)).toBe(true);
    expect(await currentDatabase(first.url)).toBe('postgres');
  });
});
