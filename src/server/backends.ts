import { join } from 'node:path';
import type { Hono } from 'hono';
import { checkedBlobStore } from '../adapters/blob/checked.js';
import { LocalBlobStore } from '../adapters/blob/local/local-blob-store.js';
import { localBlobRoutes } from '../adapters/blob/local/routes.js';
import { S3BlobStore } from '../adapters/blob/s3/s3-blob-store.js';
import { openPgliteStore } from '../adapters/metadata/pglite.js';
import { openPostgresStore } from '../adapters/metadata/postgres.js';
import { PgBossQueue } from '../adapters/queue/pgboss-queue.js';
import { pgliteExecutor } from '../adapters/queue/pglite-executor.js';
import { loadOrCreateSecret, redactUrl, type ServerConfig } from '../config.js';
import { TroveError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { JobQueue } from '../ports/job-queue.js';
import type { MetadataStore } from '../ports/metadata-store.js';
import { lockDataDir, prepareDataDir } from './data-dir.js';

/** The role a process plays; embedded PGlite can only serve the `serve` role. */
export type ProcessRole = 'serve' | 'worker' | 'fetch-handler';

/** The open backends of one process. */
export interface Backends {
  /** Metadata store, migrated. */
  metadata: MetadataStore;
  /** Blob store behind the checked front layer. */
  blobs: BlobStore;
  /** Job queue, started. */
  queue: JobQueue;
  /** The local blob driver when blobs are on disk (its signed routes must be mounted). */
  localBlobs: LocalBlobStore | undefined;
  /** The routes serving the local driver's signed URLs, for the app to mount (undefined on S3). */
  blobRoutes: Hono | undefined;
  /** What was opened, for the start-up log line (no secrets). */
  describe: { database: 'pglite' | 'postgres'; blobs: 'local' | 's3' };
  /** Closes everything opened, in reverse order; `graceMs` bounds the queue's wait for jobs. */
  close(graceMs: number): Promise<void>;
}

/**
 * Opens the metadata store, blob store and job queue the configuration names
 * and checks each is reachable, so a bad URL, a missing bucket or rejected
 * credentials fail here with `invalid_config` / `unavailable` rather than on
 * the first request. PGlite (no TROVE_DATABASE_URL) locks the data directory:
 * one process owns it, which is why `trove worker` and the fetch handler
 * need PostgreSQL.
 */
export async function openBackends(
  config: ServerConfig,
  role: ProcessRole,
  logger?: Logger,
): Promise<Backends> {
  const cleanups: (() => Promise<void> | void)[] = [];
  const closeAll = async (): Promise<void> => {
    for (const fn of cleanups.splice(0).reverse()) {
      try {
        await fn();
      } catch (err) {
        if (logger) logger.error('error while closing', { err });
        else process.stderr.write(`trove: error while closing: ${(err as Error).message}\n`);
      }
    }
  };
  // Set by close(graceMs) before the queue's cleanup reads it.
  let grace = 0;
  try {
    const embedded = config.databaseUrl === undefined;
    if (embedded && role !== 'serve') {
      throw new TroveError(
        'invalid_config',
        `\`trove ${role === 'worker' ? 'worker' : 'serve'}\` as a separate process needs PostgreSQL: set TROVE_DATABASE_URL (the embedded database belongs to one \`trove serve\` process)`,
        { setting: 'databaseUrl' },
      );
    }
    if (embedded || config.s3 === undefined) warnIfExposed(config.dataDir, logger);
    let metadata: MetadataStore;
    let queue: PgBossQueue;
    if (config.databaseUrl === undefined) {
      const lock = await lockDataDir(config.dataDir);
      cleanups.push(() => lock.release());
      const opened = await openPgliteStore({ dataDir: join(config.dataDir, 'db') });
      metadata = opened.store;
      cleanups.push(() => metadata.close());
      queue = new PgBossQueue({ executor: pgliteExecutor(opened.db) });
    } else {
      const opened = await openPostgresStore({
        connectionString: config.databaseUrl,
        poolSize: config.databasePoolSize,
        applicationName: `trove-${role}`,
      });
      metadata = opened.store;
      cleanups.push(() => metadata.close());
      queue = new PgBossQueue({ executor: { connectionString: config.databaseUrl } });
      logger?.debug('database: PostgreSQL', { url: redactUrl(config.databaseUrl) });
    }
    await metadata.ping();
    let localBlobs: LocalBlobStore | undefined;
    let driver: BlobStore;
    if (config.s3 === undefined) {
      const secret = loadOrCreateSecret(config.dataDir);
      const store = new LocalBlobStore({
        root: join(config.dataDir, 'blobs'),
        secret,
        // Only the embedded server holds the data directory's lock; with
        // PostgreSQL other processes may be writing into the same blobs.
        exclusive: embedded,
        staleTempMs: config.tempMaxAgeSeconds * 1000,
      });
      localBlobs = store;
      driver = store;
      cleanups.push(sweepTempFilesEvery(store, config.tempMaxAgeSeconds * 500, logger));
    } else {
      const s3 = config.s3;
      driver = new S3BlobStore({
        bucket: s3.bucket,
        region: s3.region,
        forcePathStyle: s3.forcePathStyle,
        partSizeBytes: s3.partSizeBytes,
        ...(s3.endpoint !== undefined ? { endpoint: s3.endpoint } : {}),
        ...(s3.prefix !== undefined ? { prefix: s3.prefix } : {}),
        ...(s3.credentials !== undefined ? { credentials: s3.credentials } : {}),
        ...(logger !== undefined ? { logger: logger.child({ component: 's3' }) } : {}),
      });
    }
    const blobs = checkedBlobStore(driver);
    await blobs.ping();
    await queue.start();
    cleanups.push(() => queue.stop(grace));
    return {
      metadata,
      blobs,
      queue,
      localBlobs,
      blobRoutes: localBlobs ? localBlobRoutes(localBlobs) : undefined,
      describe: { database: embedded ? 'pglite' : 'postgres', blobs: localBlobs ? 'local' : 's3' },
      close: (graceMs) => {
        grace = graceMs;
        return closeAll();
      },
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

/** Creates the data directory private; warns when an existing one lets other users in. */
function warnIfExposed(dataDir: string, logger: Logger | undefined): void {
  const { exposedMode } = prepareDataDir(dataDir);
  if (exposedMode === null) return;
  const message = `data directory ${dataDir} has mode ${exposedMode.toString(8)}: other local users can list it; trove keeps its own files in it private (0600/0700), chmod 700 it to hide the rest`;
  if (logger) logger.warn(message, { dataDir, mode: exposedMode.toString(8) });
  else process.stderr.write(`trove: ${message}\n`);
}

/**
 * Removes dead puts' temp files while the process runs (start-up alone let a
 * long-lived server accumulate them); returns the function that stops it.
 */
export function sweepTempFilesEvery(
  store: LocalBlobStore,
  intervalMs: number,
  logger: Logger | undefined,
): () => void {
  const timer = setInterval(
    () => {
      try {
        const removed = store.sweepTempFiles();
        if (removed > 0) logger?.info('removed stale blob temp files', { removed });
      } catch (err) {
        logger?.warn('blob temp file sweep failed', { err });
      }
    },
    Math.min(Math.max(intervalMs, 1000), 10 * 60_000),
  );
  timer.unref();
  return () => clearInterval(timer);
}
