import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { checkedBlobStore } from '../adapters/blob/checked.js';
import { LocalBlobStore } from '../adapters/blob/local/local-blob-store.js';
import { localBlobRoutes } from '../adapters/blob/local/routes.js';
import { S3BlobStore } from '../adapters/blob/s3/s3-blob-store.js';
import { openPgliteStore } from '../adapters/metadata/pglite.js';
import { openPostgresStore } from '../adapters/metadata/postgres.js';
import type { SqlClient } from '../adapters/metadata/sql-client.js';
import { PgBossQueue, type PgBossQueueOptions } from '../adapters/queue/pgboss-queue.js';
import { pgliteExecutor } from '../adapters/queue/pglite-executor.js';
import {
  commitResponse,
  missingChunksResponse,
  type PresignedRequestBody,
  presignPacksResponse,
  startUploadResponse,
} from '../api/schemas.js';
import { DEFAULT_SERVICE_CONFIG } from '../config.js';
import { compressChunkSync } from '../core/codec.js';
import { sha256Hex } from '../core/digest.js';
import { encodeManifest } from '../core/manifest.js';
import { PackWriter } from '../core/pack.js';
import type { ChunkRef, Digest, ManifestEntry } from '../core/types.js';
import { createApp } from '../http/app.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { MetadataStore } from '../ports/metadata-store.js';
import type { ServiceConfig } from '../services/config.js';
import type { ServiceDeps } from '../services/deps.js';
import { testEnv } from './env.js';
import { acquireTestDatabase } from './postgres-server.js';
import { startS3rver } from './s3rver.js';

/**
 * Test support (not used by production code): the app over real backends.
 * By default an in-memory PGlite, a LocalBlobStore in a temp dir and pg-boss
 * on the same PGlite; with TROVE_TEST_BACKEND=postgres+s3 (the second leg of
 * the CI matrix, see .ci/run) a fresh PostgreSQL database and an S3BlobStore
 * on a real s3rver process.
 */
export interface Harness extends ServiceDeps {
  /** The app under test. */
  app: ReturnType<typeof createApp>;
  /** The blob driver behind `blobs`, without the checked front layer (for writing tampered bytes). */
  driver: BlobStore;
  /** The local store, when blobs are local (its signed routes are mounted on `app`). */
  local: LocalBlobStore | undefined;
  /** Raw SQL on the metadata database (for installing faults). */
  sql: SqlClient;
  /** Frees everything. */
  close(): Promise<void>;
}

/** Builds a harness; `config` overrides the default budgets and formats. */
export async function makeHarness(
  config: Partial<ServiceConfig> = {},
  options: { queue?: Pick<PgBossQueueOptions, 'leaseSeconds'> } = {},
): Promise<Harness> {
  const queueOptions = options.queue ?? {};
  const backends =
    testEnv().backend === 'postgres+s3'
      ? await openPostgresS3(queueOptions)
      : await openEmbedded(queueOptions);
  const { metadata, queue, driver, local, sql } = backends;
  await queue.start();
  const deps = {
    metadata,
    blobs: checkedBlobStore(driver),
    queue,
    config: { ...DEFAULT_SERVICE_CONFIG, ...config },
  };
  const app = createApp({ ...deps, blobRoutes: local ? localBlobRoutes(local) : undefined });
  return {
    ...deps,
    app,
    driver,
    local,
    sql,
    close: async () => {
      await queue.stop(0);
      await metadata.close();
      await backends.close();
    },
  };
}

interface OpenedBackends {
  metadata: MetadataStore;
  queue: PgBossQueue;
  driver: BlobStore;
  local: LocalBlobStore | undefined;
  sql: SqlClient;
  close(): Promise<void>;
}

type QueueOptions = Pick<PgBossQueueOptions, 'leaseSeconds'>;

async function openEmbedded(queueOptions: QueueOptions): Promise<OpenedBackends> {
  const dir = mkdtempSync(join(tmpdir(), 'trove-http-'));
  const { store: metadata, db, sql } = await openPgliteStore();
  const executor = pgliteExecutor(db);
  const local = new LocalBlobStore({ root: join(dir, 'blobs'), secret: randomBytes(32) });
  return {
    metadata,
    queue: new PgBossQueue({ executor, pollIntervalSeconds: 0.5, ...queueOptions }),
    driver: local,
    local,
    sql,
    close: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

async function openPostgresS3(queueOptions: QueueOptions): Promise<OpenedBackends> {
  const db = await acquireTestDatabase();
  const s3 = await startS3rver();
  const { store: metadata, sql } = await openPostgresStore({
    connectionString: db.url,
    poolSize: 4,
  });
  return {
    metadata,
    queue: new PgBossQueue({
      executor: { connectionString: db.url },
      pollIntervalSeconds: 0.5,
      ...queueOptions,
    }),
    driver: new S3BlobStore({
      bucket: s3.bucket,
      region: s3.region,
      endpoint: s3.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    }),
    local: undefined,
    sql,
    close: async () => {
      await s3.stop();
      await db.drop();
    },
  };
}

/** Another app over the same database and blobs, with other settings or another tenant. */
export function appWith(
  h: Harness,
  config: Partial<ServiceConfig> & { tenant?: string },
): Harness['app'] {
  return createApp({
    metadata: h.metadata,
    blobs: h.blobs,
    queue: h.queue,
    config: { ...h.config, ...config },
    blobRoutes: h.local ? localBlobRoutes(h.local) : undefined,
  });
}

/** A tree for tests: path → file content, `{ link }` for a symlink, `null` for a directory. */
export type TreeSpec = Record<string, string | Buffer | { link: string } | { exec: string } | null>;

/** A built tree: manifest, its id, and the raw bytes of every chunk. */
export interface BuiltTree {
  /** Canonical manifest bytes. */
  manifest: Buffer;
  /** Version id. */
  id: Digest;
  /** Entries as encoded. */
  entries: ManifestEntry[];
  /** Raw bytes of every chunk by digest. */
  chunks: Map<Digest, Buffer>;
}

/** Cuts content into fixed pieces (the server does not care where cuts are). */
function cut(data: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) out.push(data.subarray(i, i + size));
  return out;
}

/** Builds the manifest (adding parent directories) and chunks of a tree spec. */
export function buildTree(spec: TreeSpec, chunkSize = 64 * 1024): BuiltTree {
  const entries = new Map<string, ManifestEntry>();
  const chunks = new Map<Digest, Buffer>();
  const addDirs = (path: string) => {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      entries.set(dir, { path: dir, type: 'dir' });
    }
  };
  for (const [path, value] of Object.entries(spec)) {
    addDirs(path);
    if (value === null) {
      entries.set(path, { path, type: 'dir' });
    } else if (typeof value === 'object' && 'link' in value) {
      entries.set(path, { path, type: 'symlink', target: value.link });
    } else {
      const executable = typeof value === 'object' && 'exec' in value;
      const data = Buffer.isBuffer(value)
        ? value
        : Buffer.from(typeof value === 'string' ? value : value.exec);
      const refs: ChunkRef[] = cut(data, chunkSize).map((piece) => {
        const digest = sha256Hex(piece);
        chunks.set(digest, Buffer.from(piece));
        return { digest, size: piece.length };
      });
      entries.set(path, { path, type: 'file', executable, size: data.length, chunks: refs });
    }
  }
  const list = [...entries.values()];
  const { bytes, id } = encodeManifest(list);
  return { manifest: bytes, id, entries: list, chunks };
}

/** Packs raw chunks (compressed when it pays) into one pack. */
export function buildPack(chunks: Iterable<Buffer>): { id: Digest; bytes: Buffer } {
  const writer = new PackWriter();
  for (const raw of chunks) {
    const stored = compressChunkSync(raw);
    writer.add(sha256Hex(raw), stored.data, raw.length, stored.codec);
  }
  const { bytes, id } = writer.finish();
  return { id, bytes: Buffer.concat(bytes) };
}

/** Anything that answers requests like `app.request` (the app, or a real server through fetch). */
export interface Requester {
  /** Sends one request; a relative path is resolved against the server. */
  request(path: string, init?: RequestInit): Response | Promise<Response>;
}

/** A Requester that goes over real HTTP to `base`. */
export function overHttp(base: string): Requester {
  return { request: (path, init) => fetch(new URL(path, base), init) };
}

/** A JSON answer; tests assert on it field by field, so its body is loosely typed. */
export interface Reply {
  /** HTTP status. */
  status: number;
  /** Parsed body (null when empty). */
  // biome-ignore lint/suspicious/noExplicitAny: test assertions navigate arbitrary JSON
  json: any;
}

/** A JSON request to the app. */
export async function call(
  app: Requester,
  method: string,
  path: string,
  body?: unknown,
): Promise<Reply> {
  const res = await app.request(path, {
    method,
    ...(body !== undefined
      ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }
      : {}),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

/** Sends bytes through a presigned request, the way a client would. */
export async function sendPresigned(
  app: Requester,
  request: PresignedRequestBody,
  bytes?: Buffer,
  range?: { start: number; end: number },
): Promise<Response> {
  const headers: Record<string, string> = { ...request.headers };
  if (bytes) headers['content-length'] = String(bytes.length);
  if (range) headers.range = `bytes=${range.start}-${range.end - 1}`;
  const init = { method: request.method, headers, ...(bytes ? { body: bytes } : {}) };
  // S3 signs absolute URLs: those go to the object store, not to the app.
  if (/^https?:\/\//.test(request.url)) {
    delete headers['content-length'];
    return fetch(request.url, init);
  }
  return app.request(request.url, init);
}

/** Options of a push through the HTTP API. */
export interface PushOptions {
  /** Expected head (default null). */
  parent?: Digest | null;
  /** fail or force. */
  onConflict?: 'fail' | 'force';
  /** Push message. */
  message?: string;
  /** Skip the final commit (returns after uploads). */
  noCommit?: boolean;
}

/** Pushes a built tree through the API like a client; returns the last responses. */
export async function push(
  app: Requester,
  storage: string,
  tree: BuiltTree,
  options: PushOptions = {},
): Promise<{ start: Reply; commit?: Reply }> {
  const start = await call(app, 'POST', `/v1/storages/${storage}/uploads`, {
    version: tree.id,
    manifestSize: tree.manifest.length,
    parent: options.parent ?? null,
    onConflict: options.onConflict ?? 'fail',
    message: options.message ?? '',
  });
  if (start.status < 300) startUploadResponse.parse(start.json);
  if (start.status !== 201) return { start };
  const session = start.json.session as string;
  const missing = await call(app, 'POST', `/v1/uploads/${session}/missing`, {
    digests: [...tree.chunks.keys()],
  });
  expect(missing.status).toBe(200);
  missingChunksResponse.parse(missing.json);
  const lacking = (missing.json.missing as Digest[]).map((d) => tree.chunks.get(d) as Buffer);
  if (lacking.length > 0) {
    const pack = buildPack(lacking);
    const presigned = await call(app, 'POST', `/v1/uploads/${session}/packs`, {
      packs: [{ id: pack.id, size: pack.bytes.length }],
    });
    expect(presigned.status).toBe(200);
    presignPacksResponse.parse(presigned.json);
    for (const upload of presigned.json.uploads) {
      const put = await sendPresigned(app, upload.request, pack.bytes);
      expect(put.status).toBe(200);
    }
  }
  // A repair push of an existing version gets no manifest URL (the server holds it).
  if (start.json.manifestUpload) {
    const put = await sendPresigned(app, start.json.manifestUpload, tree.manifest);
    expect(put.status).toBe(200);
  }
  if (options.noCommit) return { start };
  let commit = await call(app, 'POST', `/v1/uploads/${session}/commit`);
  while (commit.status === 202) {
    commitResponse.parse(commit.json);
    commit = await call(app, 'POST', `/v1/uploads/${session}/commit`);
  }
  if (commit.status === 200) commitResponse.parse(commit.json);
  return { start, commit };
}
