import { join } from 'node:path';
import { acquireTestDatabase } from '../../src/testing/postgres-server.js';
import { startS3rver, troveS3Env } from '../../src/testing/s3rver.js';

/** The deployments every end-to-end suite runs against (the CI matrix). */
export const E2E_BACKENDS = ['embedded', 'postgres+s3'] as const;

/** One deployment's backing services. */
export type E2eBackendKind = (typeof E2E_BACKENDS)[number];

/** Backing services started for a suite, and the environment that points trove at them. */
export interface E2eBackend {
  /** Which deployment this is. */
  kind: E2eBackendKind;
  /** Environment for `trove serve` / `trove worker` (empty for the embedded default). */
  env: Record<string, string>;
  /**
   * The directory holding the object whose key is `t/...` on disk, for tests
   * that damage the store behind trove's back: the data directory's blobs
   * for the embedded default, s3rver's bucket directory otherwise.
   */
  objectRoot(dataDir: string): string;
  /** Drops the database and stops the S3-compatible server. */
  close(): Promise<void>;
}

/**
 * Starts what a deployment needs: nothing for the embedded default; for
 * PostgreSQL + S3 a fresh database (on TROVE_TEST_DATABASE_URL's server or a
 * throwaway one) and a real s3rver process with its own bucket.
 */
export async function openE2eBackend(kind: E2eBackendKind): Promise<E2eBackend> {
  if (kind === 'embedded')
    return { kind, env: {}, objectRoot: (data) => join(data, 'blobs'), close: async () => {} };
  const db = await acquireTestDatabase();
  try {
    const s3 = await startS3rver();
    return {
      kind,
      env: {
        TROVE_DATABASE_URL: db.url,
        ...troveS3Env(s3),
      },
      objectRoot: () => join(s3.dir, s3.bucket),
      close: async () => {
        await s3.stop();
        await db.drop();
      },
    };
  } catch (err) {
    await db.drop();
    throw err;
  }
}
