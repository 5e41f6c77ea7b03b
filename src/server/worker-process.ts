import { createAdaptorServer } from '@hono/node-server';
import { Hono } from 'hono';
import type { ServerConfig } from '../config.js';
import { checkReadiness } from '../observability/health.js';
import type { Logger } from '../observability/logger.js';
import { createMetrics, type Metrics } from '../observability/metrics.js';
import { openBackends } from './backends.js';
import { processLogger } from './process-logger.js';
import { closeHttp, listen, listeningUrl } from './serve.js';
import { startWorker } from './worker.js';

/** A running `trove worker`. */
export interface RunningWorker {
  /** URL of its health and metrics endpoints, when it listens. */
  url: string | undefined;
  /** Graceful stop: finish or release running jobs, then close the backends. */
  close(): Promise<void>;
}

/**
 * `trove worker`: claims materialize jobs from the queue in PostgreSQL and
 * writes archives to the bucket. With `listen`, it also serves `/healthz`,
 * `/readyz` and `/metrics` for orchestrators and Prometheus.
 */
export async function startWorkerProcess(
  config: ServerConfig,
  options: { listen: boolean; logger?: Logger },
): Promise<RunningWorker> {
  const logger = options.logger ?? processLogger(config, 'worker');
  const backends = await openBackends(config, 'worker', logger);
  const graceMs = config.shutdownGraceSeconds * 1000;
  const metrics = createMetrics({ queue: backends.queue });
  let draining = false;
  let server: ReturnType<typeof createAdaptorServer> | undefined;
  let worker: Awaited<ReturnType<typeof startWorker>> | undefined;
  try {
    worker = await startWorker(
      { ...backends, logger, metrics },
      {
        concurrency: config.workerConcurrency,
        retention: { keep: config.archiveKeep, graceSeconds: config.archiveGraceSeconds },
      },
    );
    if (options.listen) {
      server = createAdaptorServer({ fetch: opsApp(backends, metrics, () => draining).fetch });
      await listen(server, config);
    }
  } catch (err) {
    worker?.stop();
    await backends.close(0);
    throw err;
  }
  let url: string | undefined;
  if (server) {
    url = listeningUrl(server, config.host);
  }
  logger.info('trove worker started', {
    concurrency: config.workerConcurrency,
    url,
    database: backends.describe.database,
    blobs: backends.describe.blobs,
  });
  let closing: Promise<void> | undefined;
  const shutdown = async (): Promise<void> => {
    draining = true;
    logger.info('shutting down: finishing running jobs', { graceMs });
    worker?.stop();
    await backends.close(graceMs);
    if (server) await closeHttp(server, 1000);
    logger.info('trove worker stopped');
  };
  return {
    url,
    close: () => {
      closing ??= shutdown();
      return closing;
    },
  };
}

/** Liveness, readiness and metrics of a worker process: nothing else is served. */
function opsApp(
  deps: Parameters<typeof checkReadiness>[0],
  metrics: Metrics,
  draining: () => boolean,
): Hono {
  const app = new Hono();
  app.get('/healthz', (c) => c.json({ ok: true }));
  app.get('/readyz', async (c) => {
    const readiness = await checkReadiness({ ...deps, draining });
    return c.json(readiness, readiness.ok ? 200 : 503);
  });
  app.get('/metrics', async (c) =>
    c.body(await metrics.registry.metrics(), 200, { 'content-type': metrics.registry.contentType }),
  );
  return app;
}
