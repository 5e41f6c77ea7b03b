/**
 * `trove/server`: the server for embedding — the Hono app (`createApp`), the
 * API as a fetch handler for serverless platforms, the `trove serve` and
 * `trove worker` processes, the configuration, and the stores behind the
 * three ports. Importing it loads Hono, PGlite, pg, pg-boss and the AWS SDK;
 * programs that only push and pull import `trove/client` instead.
 */

export {
  LocalBlobStore,
  type LocalBlobStoreOptions,
} from '../adapters/blob/local/local-blob-store.js';
export { S3BlobStore } from '../adapters/blob/s3/s3-blob-store.js';
export {
  openPgliteStore,
  type PgliteStore,
  type PgliteStoreOptions,
} from '../adapters/metadata/pglite.js';
export {
  openPostgresStore,
  type PostgresStore,
  type PostgresStoreOptions,
} from '../adapters/metadata/postgres.js';
export { SqlMetadataStore } from '../adapters/metadata/sql-store.js';
export { PgBossQueue, type PgBossQueueOptions } from '../adapters/queue/pgboss-queue.js';
export { loadServerConfig, type ServerConfig } from '../config.js';
export { type AppDeps, createApp } from '../http/app.js';
export {
  createLogger,
  type Logger,
  type LoggerOptions,
  type LogLevel,
} from '../observability/logger.js';
export type { BlobStore } from '../ports/blob-store.js';
export type { JobQueue } from '../ports/job-queue.js';
export type { MetadataStore } from '../ports/metadata-store.js';
export { type Backends, openBackends, type ProcessRole } from './backends.js';
export {
  createFetchHandler,
  type OpenFetchHandler,
  openFetchHandler,
} from './fetch-handler.js';
export { type RunningServer, startServer } from './serve.js';
export { type RunningWorker, startWorkerProcess } from './worker-process.js';
