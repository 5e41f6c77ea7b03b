import { SERVICE_DEFAULTS } from '../config-settings.js';
import { createLogger, type Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { JobData, JobQueue } from '../ports/job-queue.js';
import type { MetadataStore } from '../ports/metadata-store.js';
import {
  applyArchiveRetention,
  type RetentionPolicy,
  type RetentionResult,
} from '../services/archive-retention.js';
import type { MaterializeEvent, ServiceEvents } from '../services/deps.js';
import { materializeArchive } from '../services/materialize.js';
import { sweepStaleArchives } from '../services/materialize-jobs.js';

/** Options of the materialize worker. */
export interface WorkerOptions {
  /** Archives built at once in this process (each is CPU-bound compression). */
  concurrency?: number;
  /** How often stale pending/building archives are re-enqueued and retention runs. */
  sweepIntervalMs?: number;
  /** Archive retention (default: keep the head's archive, one hour's grace). */
  retention?: RetentionPolicy;
}

/** The retention the configuration defaults to (TROVE_ARCHIVE_KEEP, TROVE_URL_TTL_SECONDS). */
export const DEFAULT_RETENTION: RetentionPolicy = {
  keep: 1,
  graceSeconds: SERVICE_DEFAULTS.urlTtlSeconds,
};

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
  /** Runs a retention pass now (after any pass already running in this process). */
  retain(): Promise<RetentionResult>;
}

/**
 * Registers the materialize job handler and starts the sweeper (once now,
 * then every minute): it re-enqueues archives a crash between the commit
 * transaction and its enqueue left behind, and runs archive retention, which
 * also runs after every archive built (a newer version's archive is the
 * usual moment an older one stops paying). Shared by `trove serve` and
 * `trove worker`.
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
  const retention = options.retention ?? DEFAULT_RETENTION;
  let running: Promise<RetentionResult> | null = null;
  let queued: Promise<RetentionResult> | null = null;
  // Passes in one process run one at a time; requests during a pass share the next one.
  const retain = (): Promise<RetentionResult> => {
    if (queued) return queued;
    const pass = async (): Promise<RetentionResult> => {
      const r = await applyArchiveRetention(deps, retention);
      if (r.evicted > 0 || r.deleted > 0) logger.info('archive retention', { ...r });
      return r;
    };
    if (!running) {
      running = pass().finally(() => {
        running = null;
      });
      return running;
    }
    queued = running
      .catch(() => undefined)
      .then(() => {
        queued = null;
        running = pass().finally(() => {
          running = null;
        });
        return running;
      });
    return queued;
  };
  let stopped = false;
  // After stop the backends are closing: a pass started then would only log errors.
  const safeRetain = async () => {
    if (stopped) return;
    await retain().catch((err: unknown) => {
      logger.error('archive retention failed', { err });
    });
  };
  await deps.queue.work(
    'materialize',
    async (data, signal) => {
      logger.debug('materialize started', {
        tenant: data.tenant,
        versionId: data.versionId,
        format: data.format,
      });
      if (await superseded(deps.metadata, retention, data)) {
        logger.debug('materialize skipped: archive evicted', { ...data });
        return;
      }
      const outcome = await materializeArchive(
        { metadata: deps.metadata, blobs: deps.blobs, events },
        data,
        undefined,
        signal,
      );
      // Not awaited: the job is done; retention must not hold its queue slot.
      if (outcome === 'built') void safeRetain();
    },
    { concurrency: options.concurrency ?? 1 },
  );
  const sweep = () => sweepStaleArchives(deps);
  const safeSweep = async () => {
    const requeued = await sweep()
      .then((n) => {
        if (n > 0) logger.info('re-enqueued stale archives', { requeued: n });
        return n;
      })
      .catch((err: unknown) => {
        logger.error('archive sweep failed', { err });
        return 0;
      });
    await safeRetain();
    return requeued;
  };
  await safeSweep();
  const timer = setInterval(safeSweep, options.sweepIntervalMs ?? 60_000);
  timer.unref();
  const stop = () => {
    stopped = true;
    clearInterval(timer);
  };
  return { stop, sweep, retain };
}

/**
 * A job for an archive retention evicted before it was built (pushes faster
 * than builds) is not worth building. An evicted archive whose version is
 * retained again (pushed again, so head) is a rebuild and goes ahead.
 */
async function superseded(
  metadata: MetadataStore,
  retention: RetentionPolicy,
  job: JobData,
): Promise<boolean> {
  if (retention.keep === 0) return false;
  const row = (await metadata.listArchives(job.tenant, job.versionId)).find(
    (a) => a.format === job.format,
  );
  if (row?.state !== 'evicted' && row?.state !== 'deleted') return false;
  return !(await metadata.isArchiveRetained(job.tenant, job.versionId, retention.keep));
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
