import type { BlobStore } from '../ports/blob-store.js';
import type { JobQueue } from '../ports/job-queue.js';
import type { MetadataStore } from '../ports/metadata-store.js';
import { materializeArchive } from '../services/materialize.js';
import { sweepStaleArchives } from '../services/materialize-jobs.js';

/** Options of the materialize worker. */
export interface WorkerOptions {
  /** Archives built at once in this process (each is CPU-bound compression). */
  concurrency?: number;
  /** How often stale pending/building archives are re-enqueued. */
  sweepIntervalMs?: number;
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
  deps: { metadata: MetadataStore; blobs: BlobStore; queue: JobQueue },
  options: WorkerOptions = {},
): Promise<WorkerHandle> {
  await deps.queue.work(
    'materialize',
    async (data) => {
      await materializeArchive(deps, data);
    },
    { concurrency: options.concurrency ?? 1 },
  );
  const sweep = () => sweepStaleArchives(deps);
  const safeSweep = () =>
    sweep().catch((err: unknown) => {
      console.error('trove worker: archive sweep failed', err);
      return 0;
    });
  await safeSweep();
  const timer = setInterval(safeSweep, options.sweepIntervalMs ?? 60_000);
  timer.unref();
  return { stop: () => clearInterval(timer), sweep };
}
