import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TroveError } from '../../errors.js';
import { acquireTestDatabase, type TestDatabase } from '../../testing/postgres-server.js';
import { hasPostgresBinaries, startThrowawayPostgres } from '../../testing/postgres-throwaway.js';
import { loadMigrations } from './migrations.js';
import { openPostgresStore } from './postgres.js';
import { redactConnectionString } from './postgres-errors.js';
import { runMetadataStoreConformance } from './testing/conformance.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await acquireTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

runMetadataStoreConformance('PostgreSQL', async () => {
  const { store } = await openPostgresStore({ connectionString: db.url, poolSize: 8 });
  return { store, close: () => store.close() };
});

async function startError(connectionString: string): Promise<TroveError> {
  const err = await openPostgresStore({ connectionString }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(TroveError);
  return err as TroveError;
}

/** `url` with another port, database or password. */
function variant(url: string, change: { port?: number; database?: string; password?: string }) {
  const u = new URL(url);
  if (change.port !== undefined) u.port = String(change.port);
  if (change.database !== undefined) u.pathname = `/${change.database}`;
  if (change.password !== undefined) u.password = change.password;
  return u.toString();
}

describe('openPostgresStore start-up', () => {
  const secret = 'hunter2-very-secret';

  it('an unreachable server is `unavailable`, names host:port, hides the password', async () => {
    const err = await startError(variant(db.url, { port: 1, password: secret }));
    expect(err.code).toBe('unavailable');
    expect(err.message).toContain(':1 ');
    expect(err.message).toContain('check that the server is running');
    expect(`${err.message} ${JSON.stringify(err)}`).not.toContain(secret);
  });

  it('a missing database is `invalid_config` saying to create it', async () => {
    const err = await startError(variant(db.url, { database: 'no_such_db' }));
    expect(err.code).toBe('invalid_config');
    expect(err.message).toContain('database "no_such_db" does not exist');
    const password = decodeURIComponent(new URL(db.url).password);
    if (password) expect(err.message).not.toContain(password);
  });

  // Needs a server that checks passwords: the throwaway one does (scram over TCP).
  it.runIf(hasPostgresBinaries())('a wrong password is `invalid_config`, not shown', async () => {
    const { url } = await startThrowawayPostgres();
    const err = await startError(variant(url, { password: secret }));
    expect(err.code).toBe('invalid_config');
    expect(err.message).toContain('rejected user "postgres"');
    expect(err.message).toContain('fix the user name or password');
    expect(`${err.message} ${JSON.stringify(err)}`).not.toContain(secret);
  });

  it('an unknown role is `invalid_config` pointing at the credentials', async () => {
    const u = new URL(db.url);
    u.username = 'no_such_role';
    const err = await startError(u.toString());
    expect(err.code).toBe('invalid_config');
    expect(err.message).toContain('fix the user name or password');
  });

  it('redacts passwords in URL and keyword forms', () => {
    expect(redactConnectionString('postgres://u:p@ss@h:5/d')).toBe('postgres://u:***@h:5/d');
    expect(redactConnectionString("host=h password='a b' user=u")).toBe(
      'host=h password=*** user=u',
    );
    expect(redactConnectionString('postgres://u@h/d')).toBe('postgres://u@h/d');
  });

  it('several processes migrating one fresh database at once apply each migration once', async () => {
    const fresh = await acquireTestDatabase();
    try {
      // A statement timeout far below the wait for the lock must not fail the waiters.
      const opened = await Promise.all(
        Array.from({ length: 5 }, () =>
          openPostgresStore({ connectionString: fresh.url, poolSize: 2, statementTimeoutMs: 50 }),
        ),
      );
      const r = await opened[0]!.sql.query<{ id: number }>(
        'SELECT id FROM schema_migrations ORDER BY id',
      );
      expect(r.rows.map((row) => row.id)).toEqual(loadMigrations().map((m) => m.id));
      await Promise.all(opened.map((o) => o.store.close()));
    } finally {
      await fresh.drop();
    }
  });

  it('applies application name and statement timeout to every connection', async () => {
    const { sql, store } = await openPostgresStore({
      connectionString: db.url,
      applicationName: 'trove-test-app',
      statementTimeoutMs: 200,
    });
    const r = await sql.query<{ app: string }>("SELECT current_setting('application_name') AS app");
    expect(r.rows[0]?.app).toBe('trove-test-app');
    await expect(sql.query('SELECT pg_sleep(2)')).rejects.toMatchObject({ code: '57014' });
    await store.close();
  });
});

describe('postgresSqlClient connections', () => {
  it('survives the server killing idle and in-transaction connections', async () => {
    const app = `trove-kill-${process.pid}`;
    const { sql, store } = await openPostgresStore({
      connectionString: db.url,
      applicationName: app,
    });
    await Promise.all([sql.query('SELECT 1'), sql.query('SELECT 1')]);
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    // Idle connections die: the pool's error listener keeps the process alive.
    await admin.query(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1',
      [app],
    );
    await admin.end();
    await new Promise((r) => setTimeout(r, 200));
    await store.ping();
    // A connection dying inside a transaction: `unavailable`, and it is not reused.
    const err = await sql
      .transaction((tx) => tx.query('SELECT pg_terminate_backend(pg_backend_pid())'))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TroveError);
    expect((err as TroveError).code).toBe('unavailable');
    for (let i = 0; i < 12; i++) await sql.transaction((tx) => tx.query('SELECT 1'));
    await store.close();
  });
});
