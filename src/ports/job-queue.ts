/**
 * Background job port, kept in the database (pg-boss on PGlite or PostgreSQL):
 * claims with FOR UPDATE SKIP LOCKED, leases that expire, retries with backoff.
 * Handlers must be idempotent: a job may run more than once.
 */
export interface JobQueue {
  /** Starts the queue (creates its schema when needed). */
  start(): Promise<void>;
  /** Stops claiming; waits up to `graceMs` for running handlers, then releases them. */
  stop(graceMs?: number): Promise<void>;
  /**
   * Enqueues a job. `singletonKey` makes a second enqueue with the same key a
   * no-op while the first is queued or running, except that a job waiting out
   * a retry back-off is brought forward to run now. Returns the job id, or
   * null when deduplicated.
   */
  enqueue(
    name: JobName,
    data: JobData,
    options?: { singletonKey?: string },
  ): Promise<string | null>;
  /**
   * Registers a handler; it receives one job at a time per concurrency slot.
   * `signal` aborts when the job's lease was lost (the worker looked dead and
   * the job was handed to another): stop without recording an outcome.
   */
  work(
    name: JobName,
    handler: (data: JobData, signal: AbortSignal) => Promise<void>,
    options?: { concurrency?: number },
  ): Promise<void>;
  /** Counts jobs by state for one queue (for logs, tests and metrics). */
  counts(name: JobName): Promise<Record<string, number>>;
}

/** Job names trove uses. */
export type JobName = 'materialize';

/** Payload of a materialize job. */
export interface JobData {
  /** Tenant id. */
  tenant: string;
  /** Version to materialize. */
  versionId: string;
  /** Archive format to build. */
  format: 'tar.gz' | 'tar.zst';
}
