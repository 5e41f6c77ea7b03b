import { createLogger, type Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { JobQueue } from '../ports/job-queue.js';
import type { MetadataStore } from '../ports/metadata-store.js';
import type { MaterializeEvent, ServiceEvents } from '../services/deps.js';
import { materializeArchive } from '../services/materialize.js';
import { sweepStaleArchives } from '../services/materialize-jobs.js';

/** Options of the materialize worker. */
export interface WorkerOptions {
  /** Archives built at once in this process (each is CPU-bound compression). */
  concurrency?: number;
  /** How often stale pending/building archives are re-enqueued. */
  sweepIntervalMs?: number;
}

/** What the worker runs on; logger, metrics and events are optional. */
export interface WorkerDeps {
  /** Archive rows and versions. */
  metadata: MetadataStore;
  /** Packs in, archives out. */
  blobs: BlobStore;
  /** The materialize queue. */
  queue: JobQueue;
  /** Job and sweep logs (default: warnings and errors as JSON on stderr). */
  logger?: Logger | undefined;
  /** Receives materialize outcomes and reports this queue's job counts. */
  metrics?: Metrics | undefined;
  /** Other listeners of materialize outcomes (called besides `metrics`). */
  events?: ServiceEvents | undefined;
}

/** A running worker. */
export interface WorkerHandle {
  /** Stops the sweeper (the queue itself is stopped by its owner). */
  stop(): void;
  /** Runs one sweep now; returns how many stale archives were re-enqueued. */
  sweep(): Promise<number>;
}

/**
 * Registers the materialize job handler and starts the re-enqueue sweeper
 * (once now, then every minute) that repairs a crash between the commit
 * transaction and its enqueue. Shared by `trove serve` and `trove worker`.
 */
export async function startWorker(
  deps: WorkerDeps,
  options: WorkerOptions = {},
): Promise<WorkerHandle> {
  const logger = (deps.logger ?? createLogger({ level: 'warn' })).child({ component: 'worker' });
  deps.metrics?.trackQueue(deps.queue);
  const events: ServiceEvents = {
    materializeFinished: (event) => {
      logFinished(logger, event);
      deps.metrics?.materializeFinished(event);
      deps.events?.materializeFinished?.(event);
    },
  };
  await deps.queue.work(
    'materialize',
    async (data) => {
      logger.debug('materialize started', {
        tenant: data.tenant,
        versionId: data.versionId,
        format: data.format,
      });
      await materializeArchive({ metadata: deps.metadata, blobs: deps.blobs, events }, data);
    },
    { concurrency: options.concurrency ?? 1 },
  );
  const sweep = () => sweepStaleArchives(deps);
  const safeSweep = () =>
    sweep()
      .then((requeued) => {
        if (requeued > 0) logger.info('re-enqueued stale archives', { requeued });
        return requeued;
      })
      .catch((err: unknown) => {
        logger.error('archive sweep failed', { err });
        return 0;
      });
  await safeSweep();
  const timer = setInterval(safeSweep, options.sweepIntervalMs ?? 60_000);
  timer.unref();
  return { stop: () => clearInterval(timer), sweep };
}

/** One line per job: what was built, how big, how long; failures are warnings (the queue retries). */
function logFinished(logger: Logger, event: MaterializeEvent): void {
  const fields = {
    tenant: event.tenant,
    versionId: event.versionId,
    format: event.format,
    outcome: event.outcome,
    bytes: event.bytes,
    durationMs: Math.round(event.durationSeconds * 1000),
  };
  if (event.outcome === 'failed')
    logger.warn('materialize failed', { ...fields, err: event.error });
  else if (event.outcome === 'built') logger.info('materialize finished', fields);
  else logger.debug('materialize skipped', fields);
}
