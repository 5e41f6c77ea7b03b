import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { acquireTestDatabase } from '../src/testing/postgres-server.js';
import { startS3rver, troveS3Env } from '../src/testing/s3rver.js';

/**
 * Where the benched trove server keeps its data: the embedded default (PGlite
 * and local disk in the data directory) or PostgreSQL + an S3-compatible
 * server (s3rver, a real process; the database from TROVE_TEST_DATABASE_URL
 * or a throwaway PostgreSQL). TROVE_BENCH_BACKEND picks one.
 */
export interface BenchBackend {
  /** Which backend. */
  kind: 'embedded' | 'postgres+s3';
  /** Environment for `trove serve`. */
  env: Record<string, string>;
  /** Bytes of stored objects (packs, manifests, archives), metadata excluded. */
  storedBytes(): number;
  /** The file holding a version's archive, for the local `tar -x` comparison. */
  findArchive(version: string, format: string): string | null;
  /** Stops what was started and drops the database. */
  close(): Promise<void>;
}

// s3rver keeps each object as `<key>._S3rver_object` next to metadata files.
const S3RVER_OBJECT = '._S3rver_object';

function walkFiles(dir: string, visit: (path: string, name: string) => void): void {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walkFiles(p, visit);
    else if (e.isFile()) visit(p, e.name);
  }
}

function storeOf(
  root: string,
  objectSuffix: string,
): Pick<BenchBackend, 'storedBytes' | 'findArchive'> {
  return {
    storedBytes() {
      let total = 0;
      walkFiles(root, (p, name) => {
        if (name.endsWith(objectSuffix) && !p.includes('/.tmp/')) total += statSync(p).size;
      });
      return total;
    },
    findArchive(version, format) {
      let hit: string | null = null;
      walkFiles(root, (p, name) => {
        if (name === `${version}.${format}${objectSuffix}`) hit = p;
      });
      return hit;
    },
  };
}

/** Opens the backend the bench runs trove on; `dataDir` is trove's data directory. */
export async function openBenchBackend(
  kind: BenchBackend['kind'],
  dataDir: string,
): Promise<BenchBackend> {
  if (kind === 'embedded') {
    return { kind, env: {}, ...storeOf(join(dataDir, 'blobs'), ''), close: async () => {} };
  }
  const db = await acquireTestDatabase();
  const s3 = await startS3rver().catch(async (err: unknown) => {
    await db.drop();
    throw err;
  });
  return {
    kind,
    env: {
      TROVE_DATABASE_URL: db.url,
      ...troveS3Env(s3),
    },
    ...storeOf(s3.dir, S3RVER_OBJECT),
    close: async () => {
      await s3.stop();
      await db.drop();
    },
  };
}
