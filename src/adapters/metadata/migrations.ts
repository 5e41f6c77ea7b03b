import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SqlClient } from './sql-client.js';

/** One migration file. */
export interface Migration {
  /** Numeric prefix of the file name; migrations apply in ascending id order. */
  id: number;
  /** File name without the numeric prefix and extension. */
  name: string;
  /** The SQL text, possibly several statements. */
  sql: string;
}

// Arbitrary constant shared by every trove process: serializes concurrent migrators.
const MIGRATION_LOCK_KEY = 7_240_331_911;

/**
 * Finds the migrations directory. From the source tree it sits next to this
 * module; the build emits dist/src/adapters/metadata/*.js without copying the
 * .sql files, so from dist we walk up to the package root, whose
 * src/adapters/metadata/migrations ships with the package (package.json "files").
 */
export function migrationsDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const sibling = join(here, 'migrations');
  if (existsSync(sibling)) return sibling;
  let dir = here;
  for (;;) {
    const candidate = join(dir, 'src', 'adapters', 'metadata', 'migrations');
    if (existsSync(join(dir, 'package.json')) && existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new Error(`trove migrations directory not found (looked from ${here})`);
}

/** Reads `NNN_name.sql` files, sorted by id. */
export function loadMigrations(dir: string = migrationsDir()): Migration[] {
  const out: Migration[] = [];
  for (const file of readdirSync(dir)) {
    const m = /^(\d+)_([\w-]+)\.sql$/.exec(file);
    if (!m) continue;
    out.push({ id: Number(m[1]), name: m[2]!, sql: readFileSync(join(dir, file), 'utf8') });
  }
  out.sort((a, b) => a.id - b.id);
  for (let i = 1; i < out.length; i++) {
    if (out[i]!.id === out[i - 1]!.id) throw new Error(`duplicate migration id ${out[i]!.id}`);
  }
  return out;
}

/**
 * Applies pending migrations, each in its own transaction together with its
 * schema_migrations row. The transaction-scoped advisory lock makes a second
 * process wait, then see the row and skip, so concurrent starts are safe.
 */
export async function runMigrations(
  sql: SqlClient,
  migrations: Migration[] = loadMigrations(),
): Promise<number[]> {
  // Under the lock too: concurrent CREATE TABLE IF NOT EXISTS can still collide in pg_type.
  await sql.transaction(async (tx) => {
    await tx.query('SET LOCAL statement_timeout = 0');
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    await tx.query(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
         id integer PRIMARY KEY,
         name text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
  });
  const applied: number[] = [];
  for (const migration of migrations) {
    const done = await sql.transaction(async (tx) => {
      // A request-sized statement_timeout must not cut short a long migration,
      // nor a process waiting its turn for the lock.
      await tx.query('SET LOCAL statement_timeout = 0');
      await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
      const seen = await tx.query('SELECT 1 FROM schema_migrations WHERE id = $1', [migration.id]);
      if (seen.rows.length > 0) return false;
      await execScript(tx, migration.sql);
      await tx.query('INSERT INTO schema_migrations (id, name) VALUES ($1, $2)', [
        migration.id,
        migration.name,
      ]);
      return true;
    });
    if (done) applied.push(migration.id);
  }
  return applied;
}

/**
 * Runs a multi-statement script through the parameterized `query`, one
 * statement at a time (extended protocol allows only one). The splitter knows
 * comments and quoted strings, which is all our migration files use; no
 * dollar-quoted bodies.
 */
async function execScript(tx: SqlClient, script: string): Promise<void> {
  for (const statement of splitStatements(script)) await tx.query(statement);
}

/** Splits SQL on top-level semicolons, dropping comments and empty statements. */
export function splitStatements(script: string): string[] {
  const out: string[] = [];
  let current = '';
  let i = 0;
  while (i < script.length) {
    const c = script[i]!;
    if (c === '-' && script[i + 1] === '-') {
      const end = script.indexOf('\n', i);
      i = end === -1 ? script.length : end + 1;
      current += '\n';
      continue;
    }
    if (c === "'" || c === '"') {
      let j = i + 1;
      while (j < script.length) {
        if (script[j] === c && script[j + 1] === c) j += 2;
        else if (script[j] === c) break;
        else j++;
      }
      current += script.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    if (c === '$') throw new Error('dollar-quoted SQL is not supported in migrations');
    if (c === ';') {
      if (current.trim()) out.push(current.trim());
      current = '';
      i++;
      continue;
    }
    current += c;
    i++;
  }
  if (current.trim()) out.push(current.trim());
  return out;
}
