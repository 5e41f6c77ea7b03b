import { randomUUID } from 'node:crypto';
import PgBoss from 'pg-boss';
import { TroveError } from '../../errors.js';
import type { JobData, JobName, JobQueue } from '../../ports/job-queue.js';
import type { SqlExecutor } from './pglite-executor.js';

/** Options of the pg-boss job queue. */
export interface PgBossQueueOptions {
  /** Where pg-boss runs its SQL: an executor (e.g. PGlite) or its own pg pool. */
  executor: SqlExecutor | { connectionString: string };
  /** Connections of pg-boss's own pool when given a connection string (default 3). */
  poolSize?: number;
  /** Schema holding pg-boss tables (default 'pgboss'). */
  schema?: string;
  /** How often idle workers poll for jobs, in seconds (pg-boss minimum 0.5; default 2). */
  pollIntervalSeconds?: number;
  /** Attempts after the first failure (default 5). */
  retryLimit?: number;
  /** Base retry delay in whole seconds; doubled per attempt with jitter (default 2). */
  retryDelaySeconds?: number;
  /**
   * Hard cap on one run: pg-boss fails a job still running after this many
   * seconds, heartbeats or not (default 900).
   */
  expireInSeconds?: number;
  /**
   * Lease of a running job (default 30 s): its worker renews it every quarter
   * of this; a job whose lease was not renewed for this long belongs to a
   * dead worker and is re-queued by any live one (checked as often).
   */
  leaseSeconds?: number;
}

const JOB_NAMES: readonly JobName[] = ['materialize'];
const OPEN_STATES = ['created', 'retry', 'active'];

/**
 * JobQueue on pg-boss 10. Queues use the 'stately' policy: the database
 * refuses a second queued job with the same singleton key; enqueue also
 * checks for a running one, so a duplicate is a no-op while the first is
 * queued or running (between that check and the insert a job can start, which
 * at worst runs an idempotent handler twice).
 */
export class PgBossQueue implements JobQueue {
  private readonly boss: PgBoss;
  private readonly schema: string;
  private readonly poll: number;
  private readonly queueOptions: Omit<PgBoss.Queue, 'name'>;
  private readonly ensured = new Set<string>();
  private readonly leaseSeconds: number;
  private reaper: NodeJS.Timeout | undefined;
  private started = false;

  constructor(options: PgBossQueueOptions) {
    this.schema = options.schema ?? 'pgboss';
    this.poll = options.pollIntervalSeconds ?? 2;
    this.leaseSeconds = options.leaseSeconds ?? 30;
    this.queueOptions = {
      policy: 'stately',
      retryLimit: options.retryLimit ?? 5,
      retryDelay: options.retryDelaySeconds ?? 2,
      retryBackoff: true,
      expireInSeconds: options.expireInSeconds ?? 900,
    };
    const db =
      'executeSql' in options.executor
        ? { db: options.executor as PgBoss.Db }
        : {
            connectionString: options.executor.connectionString,
            // pg-boss defaults to 10; it needs one for polling, one for supervision, one to spare.
            max: options.poolSize ?? 3,
            application_name: 'trove-queue',
          };
    this.boss = new PgBoss({
      ...db,
      schema: this.schema,
      schedule: false,
      supervise: true,
      migrate: true,
    });
    // pg-boss reports background failures as events; without a listener Node would crash.
    this.boss.on('error', (err) => {
      console.error(`job queue: ${err.message}`);
    });
  }

  async start(): Promise<void> {
    if (this.started) return;
    // Not retried: a failed pg-boss start() leaves it "starting". Its migrations
    // take an advisory lock, so processes starting together do not race there.
    try {
      await this.boss.start();
      this.started = true;
      for (const name of JOB_NAMES) await this.ensureQueue(name);
    } catch (err) {
      // Close pg-boss's pool and timers, or a process that failed to start
      // would report the error and then never exit.
      this.started = false;
      await this.boss
        .stop({ graceful: false, wait: true, close: true, timeout: 1000 })
        .catch(() => {});
      throw err;
    }
  }

  async stop(graceMs = 30_000): Promise<void> {
    if (!this.started) return;
    this.started = false;
    clearInterval(this.reaper);
    this.reaper = undefined;
    // pg-boss clamps the timeout to >= 1 s; running jobs past it are failed (then retried).
    await this.boss.stop({ graceful: true, wait: true, timeout: graceMs, close: true });
  }

  async enqueue(
    name: JobName,
    data: JobData,
    options: { singletonKey?: string } = {},
  ): Promise<string | null> {
    this.assertStarted();
    await this.ensureQueue(name);
    const key = options.singletonKey;
    if (key !== undefined) {
      const running = await this.boss.getDb().executeSql(
        `SELECT 1 FROM ${this.schema}.job
            WHERE name = $1 AND singleton_key = $2 AND state::text = ANY($3::text[]) LIMIT 1`,
        [name, key, OPEN_STATES],
      );
      if (running.rows.length > 0) {
        // Someone wants this job's result now (a repair push, a re-push): a
        // job waiting out a retry back-off runs at once instead.
        await this.boss.getDb().executeSql(
          `UPDATE ${this.schema}.job SET start_after = now()
            WHERE name = $1 AND singleton_key = $2 AND state = 'retry' AND start_after > now()`,
          [name, key],
        );
        return null;
      }
    }
    // The stately index treats a missing key as '' (all keyless jobs would
    // collide), so a job without a key gets a unique one.
    return this.boss.send(name, { ...data }, { singletonKey: key ?? `once:${randomUUID()}` });
  }

  async work(
    name: JobName,
    handler: (data: JobData, signal: AbortSignal) => Promise<void>,
    options: { concurrency?: number } = {},
  ): Promise<void> {
    this.assertStarted();
    await this.ensureQueue(name);
    // A starting worker first takes back what dead workers held, then keeps checking.
    await this.reapExpiredLeases(name);
    if (this.reaper === undefined) {
      this.reaper = setInterval(() => {
        this.reapExpiredLeases(name).catch((err: unknown) => {
          console.error(`job queue: lease check failed: ${(err as Error).message}`);
        });
      }, this.leaseMs() / 4);
      this.reaper.unref();
    }
    const slots = Math.max(1, options.concurrency ?? 1);
    // One pg-boss worker per slot, each claiming one job at a time: a failing
    // job then fails alone instead of taking a whole batch with it.
    for (let i = 0; i < slots; i++) {
      await this.boss.work<JobData>(
        name,
        { batchSize: 1, pollingIntervalSeconds: this.poll },
        async (jobs) => {
          for (const job of jobs) await this.runLeased(name, job, handler);
        },
      );
    }
  }

  async counts(name: JobName): Promise<Record<string, number>> {
    const out: Record<string, number> = {
      created: 0,
      retry: 0,
      active: 0,
      completed: 0,
      cancelled: 0,
      failed: 0,
    };
    const r = await this.boss.getDb().executeSql(
      `SELECT state::text AS state, count(*)::int AS n FROM ${this.schema}.job
          WHERE name = $1 GROUP BY state`,
      [name],
    );
    for (const row of r.rows as { state: string; n: number | string }[]) {
      out[row.state] = Number(row.n);
    }
    return out;
  }

  /** Runs SQL on the queue's database (tests simulate crashed workers with it). */
  async sql(text: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
    this.assertStarted();
    return (await this.boss.getDb().executeSql(text, params)).rows as Record<string, unknown>[];
  }

  /**
   * Runs one job while renewing its lease (`started_on`, which pg-boss also
   * measures its expiry from). A renewal that finds the job no longer active
   * (its lease expired and was reaped) aborts the handler: the job now runs
   * elsewhere, under a new id.
   */
  private async runLeased(
    name: JobName,
    job: PgBoss.Job<JobData>,
    handler: (data: JobData, signal: AbortSignal) => Promise<void>,
  ): Promise<void> {
    const lease = new AbortController();
    const renew = async () => {
      try {
        const rows = await this.boss.getDb().executeSql(
          `UPDATE ${this.schema}.job SET started_on = now()
            WHERE name = $1 AND id = $2 AND state = 'active' RETURNING id`,
          [name, job.id],
        );
        if (rows.rows.length === 0) {
          lease.abort(new TroveError('unavailable', 'job lease lost: the job was re-queued'));
        }
      } catch {
        // The database is unreachable: so is every write the handler would make.
      }
    };
    const timer = setInterval(renew, this.leaseMs() / 4);
    try {
      await handler(job.data, lease.signal);
    } finally {
      clearInterval(timer);
    }
  }

  /**
   * Re-queues the jobs of dead workers: an active job whose lease was not
   * renewed for `leaseSeconds`. One UPDATE moves it out of `active`, so of
   * several workers checking at once only one re-queues it; the new job has
   * a new id, so a late completion or failure of the old run (its worker was
   * only stalled) cannot touch it. The retries left carry over.
   */
  private async reapExpiredLeases(name: JobName): Promise<number> {
    const r = await this.boss.getDb().executeSql(
      `UPDATE ${this.schema}.job
          SET state = 'failed', completed_on = now(),
              output = '{"message":"lease expired: the worker stopped renewing it"}'::jsonb
        WHERE name = $1 AND state = 'active'
          AND started_on < now() - make_interval(secs => $2)
        RETURNING data, singleton_key, retry_limit, retry_count`,
      [name, this.leaseSeconds],
    );
    const reaped = r.rows as {
      data: JobData;
      singleton_key: string | null;
      retry_limit: number;
      retry_count: number;
    }[];
    for (const job of reaped) {
      const left = job.retry_limit - job.retry_count - 1;
      if (left < 0) continue;
      await this.boss.send(name, job.data, {
        retryLimit: left,
        ...(job.singleton_key !== null ? { singletonKey: job.singleton_key } : {}),
      });
    }
    return reaped.length;
  }

  private leaseMs(): number {
    return Math.max(250, this.leaseSeconds * 1000);
  }

  private async ensureQueue(name: string): Promise<void> {
    if (this.ensured.has(name)) return;
    // Processes starting together race to create the queue: pg-boss's
    // create_queue attaches a partition to the job table, and PostgreSQL may
    // abort one racer with a deadlock. Both statements are idempotent, so the
    // loser retries.
    await retryOnDeadlock(async () => {
      await this.boss.createQueue(name, { name, ...this.queueOptions });
      // createQueue keeps an existing queue's settings; apply the configured ones.
      await this.boss.updateQueue(name, { name, ...this.queueOptions });
    });
    this.ensured.add(name);
  }

  private assertStarted(): void {
    if (!this.started) throw new TroveError('unavailable', 'job queue is not started');
  }
}

const DEADLOCK_ATTEMPTS = 5;

/** Runs `fn` again (with jittered backoff) when PostgreSQL aborted it as a deadlock victim. */
export async function retryOnDeadlock<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (code !== '40P01' || attempt >= DEADLOCK_ATTEMPTS) throw err;
      await new Promise((r) => setTimeout(r, 50 * attempt + Math.random() * 100));
    }
  }
}
