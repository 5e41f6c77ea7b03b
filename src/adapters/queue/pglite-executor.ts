import type { PGlite } from '@electric-sql/pglite';

/** The executor pg-boss accepts in place of its own pg pool. */
export interface SqlExecutor {
  /** Runs one statement with parameters, or a parameterless script of several statements. */
  // biome-ignore lint/suspicious/noExplicitAny: pg-boss reads untyped rows
  executeSql(text: string, values?: unknown[]): Promise<{ rows: any[] }>;
}

/**
 * pg-boss on PGlite. Parameterized SQL goes to `query` (extended protocol);
 * pg-boss's install, migration and locked maintenance scripts are several
 * statements without parameters (including their own BEGIN ... COMMIT), which
 * only `exec` (simple protocol) accepts. Both take PGlite's transaction mutex,
 * so a pg-boss script never interleaves with an application transaction, and
 * pg-boss never leaves a transaction open across calls.
 */
export function pgliteExecutor(db: PGlite): SqlExecutor {
  return {
    async executeSql(text, values) {
      if (values && values.length > 0) {
        const r = await db.query(text, values);
        return { rows: r.rows };
      }
      const results = await db.exec(text);
      return { rows: results.at(-1)?.rows ?? [] };
    },
  };
}
