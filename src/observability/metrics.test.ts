import { describe, expect, it } from 'vitest';
import { TroveError } from '../errors.js';
import { createMetrics } from './metrics.js';

const text = (m: ReturnType<typeof createMetrics>) => m.registry.metrics();

describe('createMetrics', () => {
  it('classifies commit outcomes by error code, with bounded labels', async () => {
    const m = createMetrics({ processMetrics: false });
    m.commitSucceeded({ created: true, logicalBytes: 100, uploadedBytes: 100 });
    m.commitSucceeded({ created: false, logicalBytes: 100, uploadedBytes: 0 });
    m.commitFailed(new TroveError('head_conflict', 'moved'));
    m.commitFailed(new TroveError('digest_mismatch', 'bad pack'));
    m.commitFailed(new TroveError('missing_chunks', 'missing'));
    m.commitFailed(new TroveError('unavailable', 'db down'));
    m.commitFailed(new Error('bug'));
    const out = await text(m);
    expect(out).toContain('trove_commits_total{outcome="created"} 1');
    expect(out).toContain('trove_commits_total{outcome="existing"} 1');
    expect(out).toContain('trove_commits_total{outcome="conflict"} 1');
    expect(out).toContain('trove_commits_total{outcome="rejected"} 2');
    expect(out).toContain('trove_commits_total{outcome="error"} 2');
    expect(out).toContain('trove_push_logical_bytes_total 200');
    expect(out).toContain('trove_push_uploaded_bytes_total 100');
    expect(out).toContain('trove_dedup_ratio 0.5');
  });

  it('reports a dedup ratio of 0 before any commit', async () => {
    expect(await text(createMetrics({ processMetrics: false }))).toContain('trove_dedup_ratio 0');
  });

  it('records materialize outcomes; skipped jobs do not skew the duration histogram', async () => {
    const m = createMetrics({ processMetrics: false });
    const job = { tenant: 't', versionId: 'v', format: 'tar.zst' as const };
    m.materializeFinished({ ...job, outcome: 'built', durationSeconds: 3, bytes: 1000 });
    m.materializeFinished({ ...job, outcome: 'skipped', durationSeconds: 0.001, bytes: 0 });
    m.materializeFinished({ ...job, outcome: 'failed', durationSeconds: 1, bytes: 0 });
    const out = await text(m);
    expect(out).toContain('trove_materialize_total{format="tar.zst",outcome="built"} 1');
    expect(out).toContain('trove_materialize_total{format="tar.zst",outcome="skipped"} 1');
    expect(out).toContain('trove_materialize_duration_seconds_count{format="tar.zst"} 2');
    expect(out).toContain('trove_materialize_duration_seconds_sum{format="tar.zst"} 4');
    expect(out).toContain('trove_materialize_bytes_total{format="tar.zst"} 1000');
  });

  it('reads job counts at scrape time and still answers when the queue fails', async () => {
    let counts: Record<string, number> = { created: 3, active: 1 };
    let fail = false;
    const m = createMetrics({
      processMetrics: false,
      queue: { counts: async () => (fail ? Promise.reject(new Error('db down')) : counts) },
    });
    expect(await text(m)).toContain('trove_jobs{queue="materialize",state="created"} 3');
    counts = { created: 0, active: 2 };
    const second = await text(m);
    expect(second).toContain('trove_jobs{queue="materialize",state="active"} 2');
    expect(second).toContain('trove_jobs{queue="materialize",state="created"} 0');
    fail = true;
    expect(await text(m)).not.toContain('trove_jobs{');
    m.trackQueue({ counts: async () => ({ failed: 7 }) });
    expect(await text(m)).toContain('trove_jobs{queue="materialize",state="failed"} 7');
  });

  it('folds unknown methods into OTHER and registers process metrics with the trove_ prefix', async () => {
    const m = createMetrics();
    m.observeRequest({
      method: 'BREW',
      route: 'unmatched',
      status: 404,
      durationSeconds: 0.01,
      bytesIn: null,
      bytesOut: 50,
    });
    const out = await text(m);
    expect(out).toContain(
      'trove_http_requests_total{method="OTHER",route="unmatched",status="404"} 1',
    );
    expect(out).toContain('trove_http_response_bytes_total{route="unmatched"} 50');
    expect(out).toContain('trove_process_resident_memory_bytes');
    expect(out).not.toMatch(/^process_/m);
  });
});
