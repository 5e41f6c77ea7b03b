import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describeTarget, startupError } from '../adapters/metadata/postgres-errors.js';
import { TroveError } from '../errors.js';
import { testEnv } from './env.js';
import { startThrowawayPostgres } from './postgres-throwaway.js';

/** A database of its own for one test file (or one test). */
export interface TestDatabase {
  /** Connection URL of the new, empty database. */
  url: string;
  /** Drops the database, closing any connection still open to it. Idempotent. */
  drop(): Promise<void>;
}

/** The variable CI sets to an admin URL of a PostgreSQL server tests may use. */
export const TEST_DATABASE_ENV = 'TROVE_TEST_DATABASE_URL';

/**
 * Creates a uniquely named database so parallel test files never share
 * state. The server is the one `TROVE_TEST_DATABASE_URL` names (a URL whose
 * role may CREATE DATABASE) or, when unset, a throwaway PostgreSQL this
 * process starts once from the local binaries and removes on exit.
 */
export async function acquireTestDatabase(): Promise<TestDatabase> {
  const admin = adminUrl() ?? (await startThrowawayPostgres()).url;
  const name = `trove_t_${process.pid}_${randomBytes(6).toString('hex')}`;
  await adminQuery(admin, `CREATE DATABASE ${name}`);
  let dropped: Promise<void> | undefined;
  return {
    url: withDatabase(admin, name),
    drop: () => {
      dropped ??= adminQuery(admin, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      return dropped;
    },
  };
}

/** The admin URL from the environment, or undefined to use a throwaway server. */
export function adminUrl(): string | undefined {
  return testEnv().databaseUrl;
}

/** The same URL pointing at another database on the same server. */
export function withDatabase(url: string, database: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (err) {
    throw new TroveError(
      'invalid_config',
      `${TEST_DATABASE_ENV} must be a URL such as postgres://postgres@127.0.0.1:5432/postgres`,
      undefined,
      { cause: err },
    );
  }
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

async function adminQuery(url: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    throw startupError(err, describeTarget(url));
  }
  try {
    await client.query(text);
  } finally {
    await client.end().catch(() => undefined);
  }
}
