/**
 * The trove SDK: the typed API client, push and pull, the stat cache, the
 * shared types and error type, and the server for embedding.
 */

export type * from './api/schemas.js';
export { LIMITS } from './api/schemas.js';
export { TroveClient, type TroveClientOptions } from './client/api-client.js';
export { IGNORE_FILE, IgnoreRules } from './client/ignore.js';
export { fetchManifest } from './client/pull/manifest.js';
export { type PullOptions, type PullProgress, type PullResult, pull } from './client/pull/pull.js';
export {
  type PushOptions,
  type PushPhase,
  type PushProgress,
  type PushResult,
  push,
} from './client/push.js';
export { type CachedFile, defaultCacheDir, StatCache } from './client/stat-cache.js';
export { type WalkEntry, type WalkOptions, walk } from './client/walk.js';
export { loadServerConfig, type ServerConfig } from './config.js';
export { diffManifests, type ManifestDiff } from './core/diff.js';
export { decodeManifest, encodeManifest } from './core/manifest.js';
export type * from './core/types.js';
export { type ErrorCode, exitCodeOf, isErrorCode, TroveError } from './errors.js';
export { type AppDeps, createApp } from './http/app.js';
export {
  createFetchHandler,
  type OpenFetchHandler,
  openFetchHandler,
} from './server/fetch-handler.js';
export { type RunningServer, startServer } from './server/serve.js';
export { type RunningWorker, startWorkerProcess } from './server/worker-process.js';
