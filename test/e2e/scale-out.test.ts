import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type E2eBackend, openE2eBackend } from './backends.js';
import {
  cliJson,
  describeTree,
  pseudoRandomBytes,
  removeAll,
  type ServeProcess,
  startServe,
  tempDir,
} from './harness.js';

interface PushJson {
  version: string;
  created: boolean;
}
interface LogJson {
  versions: { id: string; archives: { format: string; state: string }[] }[];
}

const STORAGES = 4;
const ROUNDS = 3;

/** One version of a workspace: shared files, a per-storage file and a per-round edit. */
async function writeRound(dir: string, storage: number, round: number): Promise<void> {
  await mkdir(join(dir, 'src'), { recursive: true });
  // Shared across storages: dedup across concurrent sessions of different storages.
  await writeFile(join(dir, 'shared.bin'), pseudoRandomBytes(2 * 1024 * 1024, 99));
  await writeFile(join(dir, 'own.bin'), pseudoRandomBytes(1024 * 1024, 1000 + storage));
  for (let f = 0; f < 20; f++) {
    await writeFile(
      join(dir, 'src', `f${f}.txt`),
      `s${storage} f${f} r${f % 3 === 0 ? round : 0}\n`,
    );
  }
  await writeFile(join(dir, 'round.txt'), `round ${round}\n`);
}

/** Sum of a counter over label sets in a Prometheus exposition. */
function counterSum(exposition: string, name: string, labelFilter = ''): number {
  let total = 0;
  for (const line of exposition.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (labelFilter && !line.includes(labelFilter)) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

describe('scale-out: 2 API processes + 2 workers on one PostgreSQL and one S3-compatible server', () => {
  let backend: E2eBackend;
  let work: string;
  const apis: ServeProcess[] = [];
  const workers: ServeProcess[] = [];

  beforeAll(async () => {
    work = await tempDir();
    backend = await openE2eBackend('postgres+s3');
    // All four start at once: migrations and queue setup must tolerate the race.
    // Both workers run archive retention (head only, no grace) at once as well.
    const workerEnv = { ...backend.env, TROVE_ARCHIVE_KEEP: '1', TROVE_ARCHIVE_GRACE_SECONDS: '0' };
    const started = await Promise.all([
      startServe({ env: backend.env, extraArgs: ['--no-worker'] }),
      startServe({ env: backend.env, extraArgs: ['--no-worker'] }),
      startServe({ env: workerEnv, command: 'worker', extraArgs: ['--concurrency', '2'] }),
      startServe({ env: workerEnv, command: 'worker', extraArgs: ['--concurrency', '2'] }),
    ]);
    apis.push(started[0] as ServeProcess, started[1] as ServeProcess);
    workers.push(started[2] as ServeProcess, started[3] as ServeProcess);
  });

  afterAll(async () => {
    await Promise.all([...apis, ...workers].map((p) => p.stop()));
    await backend?.close();
    await removeAll(work, ...[...apis, ...workers].map((p) => p.dataDir));
  });

  it('reports ready on every process', async () => {
    for (const p of [...apis, ...workers]) {
      const res = await fetch(`${p.url}/readyz`);
      expect(res.status, p.output()).toBe(200);
      expect(await res.json()).toMatchObject({ ok: true, checks: { database: 'ok', blobs: 'ok' } });
    }
  });

  it('takes concurrent pushes through both APIs and restores every version byte for byte', async () => {
    const expected = new Map<string, Record<string, string>>();
    const heads = new Set<string>();
    for (let round = 0; round < ROUNDS; round++) {
      // Every storage pushes at once, alternating the API it talks to each round.
      const pushes = Array.from({ length: STORAGES }, async (_, s) => {
        const dir = join(work, `ws-${s}`);
        await writeRound(dir, s, round);
        const api = apis[(s + round) % 2] as ServeProcess;
        const pushed = await cliJson<PushJson>(['push', dir, '--storage', `ws-${s}`], {
          server: api.url,
          cacheDir: join(work, `cache-${s}`),
        });
        expect(pushed.created).toBe(true);
        expected.set(`ws-${s}@${pushed.version}`, await describeTree(dir));
        if (round === ROUNDS - 1) heads.add(`ws-${s}@${pushed.version}`);
      });
      await Promise.all(pushes);
    }
    expect(expected.size).toBe(STORAGES * ROUNDS);

    // Each head's archive is built by one of the two workers; retention evicts the others.
    const deadline = Date.now() + 120_000;
    for (let s = 0; s < STORAGES; s++) {
      for (;;) {
        const log = await cliJson<LogJson>(['log', `ws-${s}`], { server: apis[s % 2]?.url });
        expect(log.versions).toHaveLength(ROUNDS);
        const [head, ...older] = log.versions.map((v) => v.archives.map((a) => a.state));
        expect(head).not.toContain('failed');
        if (head?.join() === 'ready' && older.every((a) => a.length === 0)) break;
        if (Date.now() > deadline) throw new Error(`archives of ws-${s}: ${head} / ${older}`);
        await new Promise((r) => setTimeout(r, 300));
      }
    }

    // Restore each version from the API that did not take its push: heads through the
    // archive, older versions (archives evicted) from packs; the latest of each through
    // packs too.
    let i = 0;
    for (const [ref, tree] of expected) {
      const api = apis[i % 2] as ServeProcess;
      const out = join(work, `out-${i}`);
      const pulled = await cliJson<{ source: string }>(['pull', ref, out], {
        server: api.url,
        cacheDir: join(work, `pull-cache-${i}`),
      });
      expect(pulled.source).toBe(heads.has(ref) ? 'archive' : 'packs');
      expect(await describeTree(out)).toEqual(tree);
      i++;
    }
    for (let s = 0; s < STORAGES; s++) {
      const out = join(work, `packs-${s}`);
      await cliJson(['pull', `ws-${s}`, out, '--no-archive'], {
        server: apis[s % 2]?.url,
        cacheDir: join(work, `packs-cache-${s}`),
      });
      expect(await describeTree(out)).toEqual(await describeTree(join(work, `ws-${s}`)));
    }

    // The work was shared by the two worker processes through the queue.
    let built = 0;
    for (const w of workers) {
      const metrics = await (await fetch(`${w.url}/metrics`)).text();
      built += counterSum(metrics, 'trove_materialize_total', 'outcome="built"');
    }
    // At least every head; an older version's build is skipped when retention evicted it first.
    expect(built).toBeGreaterThanOrEqual(STORAGES);
  });

  it('stops every process cleanly on SIGTERM', async () => {
    const codes = await Promise.all([...apis, ...workers].map((p) => p.stop()));
    expect(codes).toEqual([0, 0, 0, 0]);
  });
});
