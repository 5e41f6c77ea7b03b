import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { type ServerConfig, serviceConfig } from '../config.js';
import { TroveError } from '../errors.js';
import { createApp } from '../http/app.js';
import type { Logger } from '../observability/logger.js';
import { createMetrics } from '../observability/metrics.js';
import { openBackends } from './backends.js';
import { processLogger } from './process-logger.js';
import { startWorker, type WorkerHandle } from './worker.js';

/** A running server. */
export interface RunningServer {
  /** Base URL clients use (the real port when 0 was asked). */
  url: string;
  /** Graceful stop: fail readiness, drain requests, finish or release jobs, close backends. */
  close(): Promise<void>;
}

/**
 * `trove serve`: the HTTP API, plus the materialize worker unless
 * `--no-worker`. On the embedded default everything lives in one data
 * directory; with TROVE_DATABASE_URL (and optionally TROVE_S3_BUCKET) the
 * process is stateless and any number of them can run side by side.
 */
export async function startServer(
  config: ServerConfig,
  options: { logger?: Logger } = {},
): Promise<RunningServer> {
  const logger = options.logger ?? processLogger(config);
  const backends = await openBackends(config, 'serve', logger);
  const graceMs = config.shutdownGraceSeconds * 1000;
  const metrics = createMetrics();
  let draining = false;
  let worker: WorkerHandle | null = null;
  let server: NodeServer;
  try {
    if (config.worker) {
      worker = await startWorker(
        { ...backends, logger, metrics },
        {
          concurrency: config.workerConcurrency,
          retention: { keep: config.archiveKeep, graceSeconds: config.archiveGraceSeconds },
        },
      );
    }
    const app = createApp({
      ...backends,
      config: { ...serviceConfig(config), tenant: config.tenant },
      logger,
      metrics,
      draining: () => draining,
    });
    server = createAdaptorServer({ fetch: app.fetch });
    await listen(server, config);
  } catch (err) {
    worker?.stop();
    await backends.close(0);
    throw err;
  }
  const listening = server;
  const url = listeningUrl(listening, config.host);
  logger.info('trove server started', {
    url,
    worker: config.worker,
    database: backends.describe.database,
    blobs: backends.describe.blobs,
  });
  let closing: Promise<void> | null = null;
  const shutdown = async (): Promise<void> => {
    draining = true;
    logger.info('shutting down: draining requests', { graceMs });
    await closeHttp(listening, graceMs);
    worker?.stop();
    await backends.close(graceMs);
    logger.info('trove server stopped');
  };
  return {
    url,
    close: () => {
      closing ??= shutdown();
      return closing;
    },
  };
}

type NodeServer = ReturnType<typeof createAdaptorServer>;

/** Listens on the configured host and port; a taken port becomes `invalid_config`. */
export function listen(server: NodeServer, config: ServerConfig): Promise<void> {
  return new Promise<void>((resolve, reject) => {
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
      server.on('error', (err) => process.stderr.write(`trove: HTTP server error: ${err}\n`));
      resolve();
    });
  });
}

/** The base URL of a listening server (IPv6 hosts bracketed, the real port when 0 was asked). */
export function listeningUrl(server: NodeServer, host: string): string {
  const { port } = server.address() as AddressInfo;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/**
 * Stops accepting connections and waits for in-flight requests; idle
 * keep-alive sockets are closed at once, busy ones after `graceMs`.
 */
export function closeHttp(server: NodeServer, graceMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      if ('closeAllConnections' in server) server.closeAllConnections();
    }, graceMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    if ('closeIdleConnections' in server) server.closeIdleConnections();
  });
}
