import { PGlite } from '@electric-sql/pglite';
import { runMigrations } from './migrations.js';
import { pgliteDiskOptions } from './pglite-fs.js';
import type { SqlClient } from './sql-client.js';
import { resourceError } from './sql-errors.js';
import { SqlMetadataStore } from './sql-store.js';

/** Options of the embedded database. */
export interface PgliteStoreOptions {
  /** Directory holding the database files; undefined keeps everything in memory. */
  dataDir?: string;
  /**
   * Durable commits (default true for a data directory): fsync on, WAL synced
   * on every commit. False trades crash safety across power loss for speed.
   */
  durable?: boolean;
}

/** The open embedded database: the store and the handles others may share. */
export interface PgliteStore {
  /** The metadata store, migrated. */
  store: SqlMetadataStore;
  /** The PGlite instance; query it only through `sql` (see pgliteSqlClient). */
  db: PGlite;
  /**
   * The serialized client over `db`, for other components. (The job queue
   * shares `db` through its own executor, built where the process is
   * assembled: see `pgliteExecutor` in src/adapters/queue.)
   */
  sql: SqlClient;
}

/** Opens PGlite (in memory or on disk), wraps it and applies migrations. */
export async function openPgliteStore(options: PgliteStoreOptions = {}): Promise<PgliteStore> {
  const db =
    options.dataDir === undefined ? await openMigratedInMemory() : await openPglite(options);
  const sql = pgliteSqlClient(db);
  const store = new SqlMetadataStore(sql);
  try {
    await store.migrate();
  } catch (err) {
    await db.close();
    throw err;
  }
  return { store, db, sql };
}

/**
 * PostgreSQL's default 128 MB of shared buffers live in PGlite's WebAssembly
 * memory, which is resident and never shrinks: 16 MB cut an opened database
 * from ~300 to ~175 MB RSS (measured on Node 20). The data files are host
 * files, so what falls out of the buffers is still in the OS page cache.
 */
export const PGLITE_MEMORY_PARAMS: readonly string[] = ['-c', 'shared_buffers=16MB'];

function startParams(params: readonly string[] | undefined): string[] {
  return [...(params ?? PGlite.defaultStartParams), ...PGLITE_MEMORY_PARAMS];
}

/** Creates and starts a PGlite instance with trove's durability and memory settings. */
export async function openPglite(options: PgliteStoreOptions = {}): Promise<PGlite> {
  if (options.dataDir === undefined) {
    const db = new PGlite({ startParams: startParams(undefined) });
    await db.waitReady;
    return db;
  }
  const disk = pgliteDiskOptions(options.dataDir, options.durable ?? true);
  const db = new PGlite({ ...disk, startParams: startParams(disk.startParams) });
  await db.waitReady;
  return db;
}

// A fresh in-memory PGlite runs initdb (seconds); later ones in this process
// start from a snapshot of the first, already migrated, which skips it.
let snapshot: Promise<Blob> | undefined;

async function openMigratedInMemory(): Promise<PGlite> {
  if (snapshot) {
    const data = await snapshot.catch(() => undefined);
    if (data) {
      const db = new PGlite({ loadDataDir: data, startParams: startParams(undefined) });
      await db.waitReady;
      return db;
    }
  }
  const db = await openPglite();
  const taking = (async () => {
    await runMigrations(pgliteSqlClient(db));
    return db.dumpDataDir('none');
  })();
  snapshot ??= taking;
  try {
    await taking;
  } catch (err) {
    await db.close();
    throw err;
  }
  return db;
}

/**
 * A SqlClient over one PGlite instance. PGlite has a single connection; its
 * top-level `query` and `exec` take the same mutex as `transaction`, so a
 * query issued while a transaction runs waits for it instead of joining it
 * (pglite.test.ts checks this; it is why `tx` alone may be used inside).
 */
export function pgliteSqlClient(db: PGlite): SqlClient {
  return {
    query: <T>(text: string, params?: unknown[]) => db.query<T>(text, params).catch(rethrow),
    transaction: <T>(fn: (tx: SqlClient) => Promise<T>) =>
      db
        .transaction(async (inner) => {
          const tx: SqlClient = {
            query: <R>(text: string, params?: unknown[]) => inner.query<R>(text, params),
            // Nested transactions flatten into the enclosing one.
            transaction: <R>(nested: (t: SqlClient) => Promise<R>) => nested(tx),
            close: async () => {},
          };
          return fn(tx);
        })
        .catch(rethrow),
    close: () => db.close(),
  };
}

/** A disk-full or out-of-memory error says so (as on PostgreSQL); anything else is thrown as is. */
function rethrow(err: unknown): never {
  throw resourceError(err) ?? err;
}
