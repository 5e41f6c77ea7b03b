/**
 * `trove/client`: the SDK alone — the typed API client, push and pull, the
 * stat cache, the manifest codec and diff, the shared types and the error
 * type. Nothing here imports the server (Hono, PGlite, pg, pg-boss, the AWS
 * SDK), so a program that only pushes and pulls loads none of it;
 * `client-entry.test.ts` checks that in a fresh process.
 */

export type * from '../api/schemas.js';
export { LIMITS } from '../api/schemas.js';
export { diffManifests, type ManifestDiff } from '../core/diff.js';
export { decodeManifest, encodeManifest } from '../core/manifest.js';
export type * from '../core/types.js';
export { type ErrorCode, exitCodeOf, isErrorCode, TroveError } from '../errors.js';
export { TroveClient, type TroveClientOptions } from './api-client.js';
export { IGNORE_FILE, IgnoreRules } from './ignore.js';
export { fetchManifest } from './pull/manifest.js';
export { type PullOptions, type PullProgress, type PullResult, pull } from './pull/pull.js';
export {
  type PushOptions,
  type PushPhase,
  type PushProgress,
  type PushResult,
  push,
} from './push.js';
export { type CachedFile, defaultCacheDir, StatCache } from './stat-cache.js';
export { type WalkEntry, type WalkOptions, walk } from './walk.js';
