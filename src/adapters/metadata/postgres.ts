import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { TroveError } from '../../errors.js';
import { describeTarget, isConnectionError, startupError } from './postgres-errors.js';
import type { SqlClient } from './sql-client.js';
import { resourceError } from './sql-errors.js';
import { SqlMetadataStore } from './sql-store.js';

/** Options of the PostgreSQL metadata store. */
export interface PostgresStoreOptions {
  /** libpq-style URL or keyword string; the password is never printed. */
  connectionString: string;
  /** Connections in the pool (default 10). */
  poolSize?: number;
  /** Shown in pg_stat_activity (default 'trove'). */
  applicationName?: string;
  /** Server-side limit per statement in milliseconds (default: the server's). */
  statementTimeoutMs?: number;
}

/** The open PostgreSQL store and the handles others may share. */
export interface PostgresStore {
  /** The metadata store, migrated. */
  store: SqlMetadataStore;
  /** SqlClient over `pool`, for other components. */
  sql: SqlClient;
  /** The pool itself; `store.close()` ends it. */
  pool: pg.Pool;
}

// Bounded so an unreachable host fails start-up in seconds instead of hanging.
const CONNECT_TIMEOUT_MS = 10_000;
// Deadlock (40P01) and serialization failure (40001): the server aborted the
// transaction and asks for it to be run again.
const RETRYABLE = new Set(['40001', '40P01']);
const MAX_ATTEMPTS = 4;

/**
 * Opens a pool, checks the server answers (a clear TroveError now rather than
 * a failure on the first request) and applies the migrations, which
 * serialize on an advisory lock so many processes may start at once.
 */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<PostgresStore> {
  let target: ReturnType<typeof describeTarget>;
  try {
    target = describeTarget(options.connectionString);
  } catch (err) {
    // The parser's message may quote the string, password included: not shown.
    throw new TroveError(
      'invalid_config',
      `the PostgreSQL connection string cannot be parsed: use postgres://user:password@host:port/database`,
      undefined,
      { cause: err },
    );
  }
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.poolSize ?? 10,
    application_name: options.applicationName ?? 'trove',
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    ...(options.statementTimeoutMs === undefined
      ? {}
      : { statement_timeout: options.statementTimeoutMs }),
  });
  // An idle connection dropped by the server emits 'error' on the pool; without
  // a listener Node would crash. The pool replaces it on the next checkout.
  pool.on('error', (err) => {
    console.error(`metadata database (${target.host}:${target.port}): ${err.message}`);
  });
  try {
    await pool.query('SELECT 1');
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw startupError(err, target);
  }
  const sql = postgresSqlClient(pool);
  const store = new SqlMetadataStore(sql);
  try {
    await store.migrate();
  } catch (err) {
    await sql.close();
    throw err;
  }
  return { store, sql, pool };
}

/**
 * A SqlClient over a pg pool. `transaction` runs on one checked-out
 * connection and is re-run (fresh snapshot) when the server aborts it with a
 * deadlock or serialization failure, so `fn` must touch nothing but `tx`.
 * `maxAttempts` (default 4) bounds those runs; 1 disables the retry.
 */
export function postgresSqlClient(
  pool: pg.Pool,
  options: { maxAttempts?: number } = {},
): SqlClient {
  const maxAttempts = options.maxAttempts ?? MAX_ATTEMPTS;
  let closed = false;
  return {
    async query<T>(text: string, params?: unknown[]) {
      try {
        const r = await pool.query(text, params);
        return { rows: r.rows as T[] };
      } catch (err) {
        throw asUnavailable(err);
      }
    },
    async transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
      for (let attempt = 1; ; attempt++) {
        try {
          return await transactionOnce(pool, fn);
        } catch (err) {
          if (attempt >= maxAttempts || !isRetryable(err)) throw asUnavailable(err);
          // Jittered so the transactions that collided do not collide again.
          await sleep(5 * attempt + Math.random() * 20 * attempt);
        }
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}

async function transactionOnce<T>(pool: pg.Pool, fn: (tx: SqlClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  // A checked-out client has no pool listener: an error event while the
  // transaction waits on something else would otherwise crash the process.
  let broken: Error | undefined;
  const onError = (err: Error) => {
    broken = err;
  };
  client.on('error', onError);
  try {
    await client.query('BEGIN');
    const result = await fn(clientSql(client));
    await client.query('COMMIT');
    return result;
  } catch (err) {
    try {
      await client.query('ROLLBACK');
    } catch (rollbackErr) {
      broken ??= rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr));
    }
    throw err;
  } finally {
    client.off('error', onError);
    // Passing an error destroys the connection instead of returning it to the pool.
    client.release(broken);
  }
}

function clientSql(client: pg.PoolClient): SqlClient {
  const tx: SqlClient = {
    query: async <R>(text: string, params?: unknown[]) => {
      const r = await client.query(text, params);
      return { rows: r.rows as R[] };
    },
    // Nested transactions flatten into the enclosing one, as on PGlite.
    transaction: <R>(nested: (t: SqlClient) => Promise<R>) => nested(tx),
    close: async () => {},
  };
  return tx;
}

function isRetryable(err: unknown): boolean {
  if (err instanceof TroveError) return false;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && RETRYABLE.has(code);
}

function asUnavailable(err: unknown): unknown {
  const resource = resourceError(err);
  if (resource !== null) return resource;
  if (!isConnectionError(err)) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new TroveError('unavailable', `metadata database unreachable: ${message}`, undefined, {
    cause: err,
  });
}
