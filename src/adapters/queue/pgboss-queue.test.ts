import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobData } from '../../ports/job-queue.js';
import type { MetadataStore } from '../../ports/metadata-store.js';
import { acquireTestDatabase } from '../../testing/postgres-server.js';
import { openPgliteStore } from '../metadata/pglite.js';
import { openPostgresStore } from '../metadata/postgres.js';
import { pushVersion } from '../metadata/testing/fixtures.js';
import { PgBossQueue, type PgBossQueueOptions } from './pgboss-queue.js';
import { pgliteExecutor } from './pglite-executor.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(check: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(50);
  }
}

const job = (versionId: string): JobData => ({ tenant: 't', versionId, format: 'tar.zst' });

/** A database for the queue, and a metadata store on the same database. */
interface Backend {
  /** What PgBossQueue runs its SQL through. */
  executor: PgBossQueueOptions['executor'];
  /** Store sharing the database with the queue. */
  store: MetadataStore;
  /** Closes the store and removes the database. */
  close(): Promise<void>;
}

const backends: [string, () => Promise<Backend>][] = [
  [
    'PGlite',
    async () => {
      const { db, store } = await openPgliteStore();
      return { executor: pgliteExecutor(db), store, close: () => store.close() };
    },
  ],
  [
    'PostgreSQL',
    async () => {
      const database = await acquireTestDatabase();
      const { store } = await openPostgresStore({ connectionString: database.url, poolSize: 4 });
      return {
        executor: { connectionString: database.url },
        store,
        close: async () => {
          await store.close();
          await database.drop();
        },
      };
    },
  ],
];

describe.each(backends)('PgBossQueue on %s', (name, openBackend) => {
  let backend: Backend;
  let n = 0;
  const open = async (extra: { retryDelaySeconds?: number } = {}) => {
    const queue = new PgBossQueue({
      executor: backend.executor,
      schema: `boss_${++n}`,
      pollIntervalSeconds: 0.5,
      retryLimit: 3,
      retryDelaySeconds: 1,
      ...extra,
    });
    await queue.start();
    return queue;
  };

  beforeAll(async () => {
    backend = await openBackend();
  });
  afterAll(async () => {
    await backend?.close();
  });

  it('runs an enqueued job', async () => {
    const queue = await open();
    const seen: JobData[] = [];
    await queue.work('materialize', async (data) => {
      seen.push(data);
    });
    const id = await queue.enqueue('materialize', job('v1'));
    expect(id).toEqual(expect.any(String));
    await until(() => seen.length === 1);
    expect(seen[0]).toEqual(job('v1'));
    await until(async () => (await queue.counts('materialize')).completed === 1);
    await queue.stop(1000);
  });

  it('retries a failing handler with backoff until it succeeds', async () => {
    const queue = await open();
    const attempts: number[] = [];
    await queue.work('materialize', async () => {
      attempts.push(Date.now());
      if (attempts.length < 2) throw new Error('transient');
    });
    await queue.enqueue('materialize', job('v2'));
    await until(async () => (await queue.counts('materialize')).completed === 1);
    expect(attempts).toHaveLength(2);
    // retryDelay 1 s with backoff: the retry waits at least one second.
    expect(attempts[1]! - attempts[0]!).toBeGreaterThanOrEqual(900);
    await queue.stop(1000);
  });

  it('singletonKey dedups while queued or running, not afterwards', async () => {
    const queue = await open();
    const key = 't:v3:tar.zst';
    const first = await queue.enqueue('materialize', job('v3'), { singletonKey: key });
    expect(first).toEqual(expect.any(String));
    expect(await queue.enqueue('materialize', job('v3'), { singletonKey: key })).toBeNull();
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let runs = 0;
    await queue.work('materialize', async () => {
      runs++;
      await gate;
    });
    await until(async () => (await queue.counts('materialize')).active === 1);
    expect(await queue.enqueue('materialize', job('v3'), { singletonKey: key })).toBeNull();
    release();
    await until(async () => (await queue.counts('materialize')).completed === 1);
    const again = await queue.enqueue('materialize', job('v3'), { singletonKey: key });
    expect(again).toEqual(expect.any(String));
    expect(again).not.toBe(first);
    await until(() => runs === 2);
    await queue.stop(1000);
  });

  it('stop() waits for a running job to finish', async () => {
    const queue = await open();
    let finished = false;
    let started = false;
    await queue.work('materialize', async () => {
      started = true;
      await sleep(1000);
      finished = true;
    });
    await queue.enqueue('materialize', job('v4'));
    await until(() => started);
    await queue.stop(10_000);
    expect(finished).toBe(true);
  });

  // Only PostgreSQL has separate processes: PGlite belongs to one process, and
  // pg-boss instances sharing its single connection would interleave scripts.
  const acrossProcesses = name === 'PostgreSQL' ? it : it.skip;
  acrossProcesses(
    'several processes starting at once on a fresh schema all start (queue creation races)',
    async () => {
      const schema = `boss_${++n}`;
      const queues = Array.from(
        { length: 6 },
        () => new PgBossQueue({ executor: backend.executor, schema, pollIntervalSeconds: 0.5 }),
      );
      const started = await Promise.allSettled(queues.map((q) => q.start()));
      expect(started.filter((r) => r.status === 'rejected')).toEqual([]);
      await Promise.all(queues.map((q) => q.stop(1_000)));
    },
  );

  it('stop() past its grace releases the job, and another worker finishes it', async () => {
    const schema = `boss_${++n}`;
    const make = () =>
      new PgBossQueue({
        executor: backend.executor,
        schema,
        pollIntervalSeconds: 0.5,
        retryLimit: 3,
        retryDelaySeconds: 1,
      });
    const first = make();
    const second = make();
    await first.start();
    let release: () => void = () => {};
    const stuck = new Promise<void>((r) => {
      release = r;
    });
    const ranOn: string[] = [];
    await first.work('materialize', async () => {
      ranOn.push('first');
      await stuck;
    });
    await first.enqueue('materialize', job('v-handoff'));
    await until(() => ranOn.length === 1);
    // The first worker is shutting down and its job will not finish within the grace.
    await first.stop(1_000);
    await second.start();
    await second.work('materialize', async () => {
      ranOn.push('second');
    });
    await until(() => ranOn.includes('second'), 20_000);
    expect(ranOn).toEqual(['first', 'second']);
    release();
    await second.stop(1_000);
  });

  it('shares the database with store transactions without deadlock', async () => {
    const queue = await open();
    let handled = 0;
    await queue.work(
      'materialize',
      async () => {
        handled++;
      },
      { concurrency: 2 },
    );
    const work = Array.from({ length: 5 }, (_, i) =>
      Promise.all([
        pushVersion(backend.store, `tenant-q${i}`),
        queue.enqueue('materialize', job(`v5-${i}`)),
      ]),
    );
    await Promise.all(work);
    await until(() => handled === 5);
    await queue.stop(1000);
  });

  it('refuses to enqueue before start', async () => {
    const queue = new PgBossQueue({ executor: backend.executor, schema: 'boss_unstarted' });
    await expect(queue.enqueue('materialize', job('x'))).rejects.toThrow('not started');
  });
});
