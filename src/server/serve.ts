import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createAdaptorServer } from '@hono/node-server';
import { checkedBlobStore } from '../adapters/blob/checked.js';
import { LocalBlobStore } from '../adapters/blob/local/local-blob-store.js';
import { openPgliteStore } from '../adapters/metadata/pglite.js';
import { PgBossQueue } from '../adapters/queue/pgboss-queue.js';
import { loadOrCreateSecret, type ServerConfig } from '../config.js';
import { TroveError } from '../errors.js';
import { createApp } from '../http/app.js';
import { lockDataDir } from './data-dir.js';
import { startWorker, type WorkerHandle } from './worker.js';

/** A running server. */
export interface RunningServer {
  /** Base URL clients use (the real port when 0 was asked). */
  url: string;
  /** Graceful stop: stop accepting, let jobs finish briefly, close the database, unlock. */
  close(): Promise<void>;
}

/** Grace given to running materialize jobs on shutdown. */
const QUEUE_GRACE_MS = 10_000;

/**
 * The embedded deployment: one data directory holding the PGlite database,
 * the local blob store and its signing secret; API and worker in one process.
 */
export async function startServer(config: ServerConfig): Promise<RunningServer> {
  mkdirSync(config.dataDir, { recursive: true });
  const lock = await lockDataDir(config.dataDir);
  const cleanups: (() => Promise<void> | void)[] = [() => lock.release()];
  const unwind = async () => {
    for (const fn of cleanups.splice(0).reverse()) {
      try {
        await fn();
      } catch (err) {
        console.error('trove: error during shutdown', err);
      }
    }
  };
  try {
    const secret = loadOrCreateSecret(config.dataDir);
    const { store: metadata, executor } = await openPgliteStore({
      dataDir: join(config.dataDir, 'db'),
    });
    cleanups.push(() => metadata.close());
    await metadata.migrate();
    const localBlobs = new LocalBlobStore({ root: join(config.dataDir, 'blobs'), secret });
    const blobs = checkedBlobStore(localBlobs);
    const queue = new PgBossQueue({ executor });
    await queue.start();
    cleanups.push(() => queue.stop(QUEUE_GRACE_MS));
    let worker: WorkerHandle | null = null;
    if (config.worker) {
      worker = await startWorker({ metadata, blobs, queue });
      cleanups.push(() => worker?.stop());
    }
    const app = createApp({ metadata, blobs, queue, config, localBlobs });
    const server = createAdaptorServer({ fetch: app.fetch });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          new TroveError(
            'invalid_config',
            `cannot listen on ${config.host}:${config.port}: ${err.code ?? err.message}`,
            { host: config.host, port: config.port },
            { cause: err },
          ),
        ),
      );
      server.listen(config.port, config.host, () => {
        server.removeAllListeners('error');
        server.on('error', (err) => console.error('trove: HTTP server error', err));
        resolve();
      });
    });
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          // Idle keep-alive sockets would otherwise hold close() open.
          if ('closeIdleConnections' in server) server.closeIdleConnections();
        }),
    );
    const { port } = server.address() as AddressInfo;
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    let closing: Promise<void> | null = null;
    return {
      url: `http://${host}:${port}`,
      close: () => {
        closing ??= unwind();
        return closing;
      },
    };
  } catch (err) {
    await unwind();
    throw err;
  }
}
