import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyStep, generateWorkspace } from '../../../bench/workload.js';
import { loadServerConfig } from '../../config.js';
import { type RunningServer, startServer } from '../../server/serve.js';
import { TroveClient } from '../api-client.js';
import { push } from '../push.js';
import { pull } from './pull.js';
import { snapshot } from './test-fixtures.js';

/**
 * Opt-in timing of pull on the bench workspace (TROVE_PULL_TIMING=1, scale
 * from TROVE_PULL_TIMING_SCALE, default 1 = ~165 MB, 4,000 files): a cold
 * pull from the archive, then incremental pulls after a ~1% edit with and
 * without a stat cache. Prints the wall times; asserts only correctness.
 */
const enabled = process.env.TROVE_PULL_TIMING === '1';
const scale = Number(process.env.TROVE_PULL_TIMING_SCALE ?? '1');

let base: string;
let server: RunningServer;
let client: TroveClient;

beforeAll(async () => {
  if (!enabled) return;
  base = mkdtempSync(join(tmpdir(), 'trove-pull-timing-'));
  const config = loadServerConfig(
    { data: join(base, 'data'), port: '0' },
    { TROVE_ARCHIVE_FORMATS: 'tar.zst' },
  );
  server = await startServer(config);
  client = new TroveClient({ baseUrl: server.url });
});
afterAll(async () => {
  if (!enabled) return;
  await server?.close();
  rmSync(base, { recursive: true, force: true });
});

async function waitArchive(storage: string): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    const v = await client.getVersion(storage, 'latest');
    if (v.archives.some((a) => a.state === 'ready')) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('archive never became ready');
}

describe.skipIf(!enabled)('pull timing (opt-in)', () => {
  it('times cold and incremental pulls of the bench workspace', async () => {
    const src = join(base, 'src');
    const cacheDir = join(base, 'cache');
    const opts = { scale };
    generateWorkspace(src, opts);
    await push({ client, storage: 'ws', dir: src, cacheDir });
    await waitArchive('ws');
    const times: Record<string, number[]> = {};
    const note = (k: string, ms: number): void => {
      times[k] = [...(times[k] ?? []), ms];
    };
    for (let round = 1; round <= 3; round++) {
      const cold = join(base, `cold-${round}`);
      note('cold archive', (await pull({ client, storage: 'ws', target: cold })).durationMs);
      rmSync(cold, { recursive: true, force: true });
    }
    const cached = join(base, 'cached');
    const uncached = join(base, 'uncached');
    await pull({ client, storage: 'ws', target: cached, cacheDir });
    await pull({ client, storage: 'ws', target: uncached });
    // The racy window must pass so that what the pulls recorded is trusted.
    await new Promise((r) => setTimeout(r, 2500));
    for (let step = 1; step <= 3; step++) {
      applyStep(src, step, opts);
      await push({ client, storage: 'ws', dir: src, cacheDir });
      const a = await pull({ client, storage: 'ws', target: cached, cacheDir });
      note('incremental, stat cache', a.durationMs);
      const b = await pull({ client, storage: 'ws', target: uncached });
      note('incremental, no cache', b.durationMs);
      const expected = snapshot(src);
      expect(snapshot(cached)).toEqual(expected);
      expect(snapshot(uncached)).toEqual(expected);
      console.log(JSON.stringify({ step, cached: a, uncached: b }));
      await new Promise((r) => setTimeout(r, 2500));
    }
    console.log(JSON.stringify(times));
  }, 600_000);
});
