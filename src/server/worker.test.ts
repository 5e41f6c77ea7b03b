import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureLogs } from '../observability/logger.js';
import { createMetrics } from '../observability/metrics.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { MaterializeEvent } from '../services/deps.js';
import { materializeArchive } from '../services/materialize.js';
import { buildTree, type Harness, makeHarness, push } from '../testing/http-harness.js';
import { startWorker } from './worker.js';

let h: Harness;
beforeAll(async () => {
  h = await makeHarness({ archiveFormats: ['tar.gz'] });
});
afterAll(async () => {
  await h?.close();
});

async function waitReady(versionId: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const rows = await h.metadata.listArchives('default', versionId);
    if (rows.length > 0 && rows.every((r) => r.state === 'ready')) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('archive never became ready');
}

describe('worker observability', () => {
  it('logs each job with version, format, bytes and duration, and counts it', async () => {
    const tree = buildTree({ 'a.txt': 'hello\n'.repeat(1000), 'b/c.txt': 'c\n' });
    await push(h.app, 'w1', tree);
    const logs = captureLogs('debug');
    const metrics = createMetrics({ processMetrics: false });
    const worker = await startWorker(
      { ...h, logger: logs.logger, metrics },
      { sweepIntervalMs: 3_600_000 },
    );
    try {
      await waitReady(tree.id);
      const [row] = await h.metadata.listArchives('default', tree.id);
      // The job's last log line is written right after the row turns ready.
      for (let i = 0; i < 50 && !logs.events().some((e) => e.msg === 'materialize finished'); i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      const started = logs.events().find((e) => e.msg === 'materialize started');
      expect(started).toMatchObject({ level: 'debug', component: 'worker', versionId: tree.id });
      const finished = logs.events().find((e) => e.msg === 'materialize finished');
      expect(finished).toMatchObject({
        level: 'info',
        component: 'worker',
        tenant: 'default',
        versionId: tree.id,
        format: 'tar.gz',
        outcome: 'built',
        bytes: row?.size,
      });
      expect(typeof finished?.durationMs).toBe('number');
      const text = await metrics.registry.metrics();
      expect(text).toContain('trove_materialize_total{format="tar.gz",outcome="built"} 1');
      expect(text).toContain(`trove_materialize_bytes_total{format="tar.gz"} ${row?.size}`);
      expect(text).toMatch(/trove_jobs\{queue="materialize",state="completed"\} [1-9]/);
    } finally {
      worker.stop();
    }
  });

  it('reports a failed build with its error, and rethrows for the queue to retry', async () => {
    const tree = buildTree({ 'x.txt': 'x\n' });
    await push(h.app, 'w2', tree);
    const broken: BlobStore = {
      ...h.blobs,
      put: async () => {
        throw new Error('disk full');
      },
    };
    const seen: MaterializeEvent[] = [];
    const events = { materializeFinished: (e: MaterializeEvent) => seen.push(e) };
    const job = { tenant: 'default', versionId: tree.id, format: 'tar.gz' as const };
    await expect(
      materializeArchive({ metadata: h.metadata, blobs: broken, events }, job),
    ).rejects.toThrow('disk full');
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ ...job, outcome: 'failed', bytes: 0 });
    expect(seen[0]?.error).toBeInstanceOf(Error);
    expect(String(seen[0]?.error)).toContain('disk full');
    expect(await materializeArchive({ ...h, events }, job)).toBe('built');
    expect(await materializeArchive({ ...h, events }, job)).toBe('skipped');
    expect(seen.map((e) => e.outcome)).toEqual(['failed', 'built', 'skipped']);
    expect(seen[1]?.bytes).toBeGreaterThan(0);
  });
});
