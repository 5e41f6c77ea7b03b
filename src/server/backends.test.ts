import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServerConfig } from '../config.js';
import { TroveError } from '../errors.js';
import { createLogger } from '../observability/logger.js';
import { acquireTestDatabase } from '../testing/postgres-server.js';
import { type RunningS3rver, startS3rver, troveS3Env } from '../testing/s3rver.js';
import { openBackends, type ProcessRole } from './backends.js';

const quiet = createLogger({ level: 'error' });

/** The error code opening the backends fails with, or 'ok'. */
async function startError(env: Record<string, string>, role: ProcessRole): Promise<string> {
  try {
    const backends = await openBackends(loadServerConfig({}, env), role, quiet);
    await backends.close(0);
    return 'ok';
  } catch (err) {
    return err instanceof TroveError ? `${err.code}: ${err.message}` : String(err);
  }
}

describe('openBackends: everything is checked at start', () => {
  let db: { url: string; drop(): Promise<void> };
  let s3: RunningS3rver;
  let dataDir: string;

  beforeAll(async () => {
    [db, s3] = await Promise.all([acquireTestDatabase(), startS3rver()]);
    dataDir = await mkdtemp(join(tmpdir(), 'trove-backends-'));
  });
  afterAll(async () => {
    await s3?.stop();
    await db?.drop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('opens PostgreSQL + S3 for a worker, and reports what it opened', async () => {
    const config = loadServerConfig({}, { TROVE_DATABASE_URL: db.url, ...troveS3Env(s3) });
    const backends = await openBackends(config, 'worker', quiet);
    expect(backends.describe).toEqual({ database: 'postgres', blobs: 's3' });
    expect(backends.localBlobs).toBeUndefined();
    await backends.close(0);
  });

  it('refuses a worker or a fetch handler on the embedded database', async () => {
    expect(await startError({ TROVE_DATA_DIR: dataDir }, 'worker')).toMatch(
      /^invalid_config: .*needs PostgreSQL: set TROVE_DATABASE_URL/,
    );
  });

  it('names an unreachable database, a missing bucket and rejected credentials', async () => {
    const s3env = troveS3Env(s3);
    expect(
      await startError(
        { TROVE_DATABASE_URL: 'postgres://trove:pw@127.0.0.1:1/trove', ...s3env },
        'serve',
      ),
    ).toMatch(/^unavailable: cannot connect to PostgreSQL at 127\.0\.0\.1:1/);
    expect(
      await startError(
        { TROVE_DATABASE_URL: db.url, ...s3env, TROVE_S3_BUCKET: 'no-such-bucket' },
        'serve',
      ),
    ).toMatch(/^invalid_config: S3 bucket no-such-bucket does not exist/);
    expect(
      await startError(
        // s3rver checks the key id but, unlike S3, never the signature.
        { TROVE_DATABASE_URL: db.url, ...s3env, TROVE_S3_ACCESS_KEY_ID: 'WRONG' },
        'serve',
      ),
    ).toMatch(/^invalid_config: S3 credentials rejected/);
  });
});
