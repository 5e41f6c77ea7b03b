/**
 * The narrow SQL surface the metadata store and migrations need. One adapter
 * per driver (pglite.ts, postgres.ts) implements it; all domain SQL lives in
 * sql-store.ts and is written once against this interface.
 */
export interface SqlClient {
  /** Runs one parameterized statement ($1, $2, ...) and returns its rows. */
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<{ rows: T[] }>;
  /**
   * Runs `fn` inside BEGIN/COMMIT on one connection; rolls back when `fn`
   * throws. Only `tx` may be used inside `fn`: queries on the outer client
   * wait until the transaction ends (on PGlite they would deadlock). On
   * PostgreSQL `fn` may run again when the server aborts it for a deadlock or
   * serialization failure, so it must have no effect outside `tx`.
   */
  transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T>;
  /** Closes the connection or pool. */
  close(): Promise<void>;
}
