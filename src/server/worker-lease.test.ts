import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../observability/logger.js';
import { buildTree, type Harness, makeHarness, push } from '../testing/http-harness.js';
import { startWorker } from './worker.js';

const quiet = createLogger({ level: 'error' });
let h: Harness;
beforeAll(async () => {
  // A 2 s lease stands in for the default 30 s.
  h = await makeHarness({ archiveFormats: ['tar.gz'] }, { queue: { leaseSeconds: 2 } });
});
afterAll(async () => {
  await h?.close();
});

const queueSql = (text: string, params: unknown[] = []) =>
  (h.queue as unknown as { sql(t: string, p?: unknown[]): Promise<Record<string, unknown>[]> }).sql(
    text,
    params,
  );

describe('a build whose worker was killed', () => {
  it('is rebuilt promptly by a worker started afterwards', async () => {
    const tree = buildTree({ 'a.txt': 'killed mid-build\n'.repeat(500) });
    await push(h.app, 'killed', tree);
    // The killed worker's state: it claimed the job and marked the archive
    // building, then its process died (the lease stopped being renewed).
    const claimed = await queueSql(
      `UPDATE pgboss.job SET state = 'active', started_on = now() - interval '10 seconds'
        WHERE name = 'materialize' AND state = 'created' RETURNING id`,
    );
    expect(claimed).toHaveLength(1);
    await h.metadata.updateArchive('default', tree.id, 'tar.gz', { state: 'building' });

    const started = Date.now();
    const worker = await startWorker({ ...h, logger: quiet }, { sweepIntervalMs: 500 });
    try {
      let state = '';
      for (let i = 0; i < 150 && state !== 'ready'; i++) {
        await new Promise((r) => setTimeout(r, 100));
        state = (await h.metadata.listArchives('default', tree.id))[0]?.state ?? '';
      }
      expect(state).toBe('ready');
      expect(Date.now() - started).toBeLessThan(15_000);
    } finally {
      worker.stop();
    }
    const [old] = await queueSql('SELECT state::text AS state FROM pgboss.job WHERE id = $1', [
      claimed[0]?.id,
    ]);
    expect(old?.state).toBe('failed');
  });

  it('does not take a job from a live worker that keeps renewing its lease', async () => {
    // Its own queue: the worker above still handles jobs on the first one.
    const h2 = await makeHarness({}, { queue: { leaseSeconds: 2 } });
    try {
      await renewedLeaseHolds(h2);
    } finally {
      await h2.close();
    }
  });
});

/** A job running three leases long, renewing its lease, runs once and completes. */
async function renewedLeaseHolds(harness: Harness): Promise<void> {
  const queueSql = (text: string) =>
    (harness.queue as unknown as { sql(t: string): Promise<Record<string, unknown>[]> }).sql(text);
  let runs = 0;
  await harness.queue.work('materialize', async (_data, signal) => {
    runs += 1;
    // Runs three leases long; the renewals keep it.
    await new Promise((r) => setTimeout(r, 6_000));
    expect(signal.aborted).toBe(false);
  });
  await harness.queue.enqueue(
    'materialize',
    { tenant: 'default', versionId: 'f'.repeat(64), format: 'tar.gz' },
    { singletonKey: 'lease-test' },
  );
  for (let i = 0; i < 100; i++) {
    const counts = await harness.queue.counts('materialize');
    if ((counts.completed ?? 0) + (counts.failed ?? 0) > 0) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  expect(runs).toBe(1);
  const rows = await queueSql(
    `SELECT state::text AS state FROM pgboss.job WHERE singleton_key = 'lease-test'`,
  );
  expect(rows.map((r) => r.state)).toEqual(['completed']);
}
