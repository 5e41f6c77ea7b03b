import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BenchBackend, openBenchBackend } from './backend.js';
import { baselinePull, baselinePush, localExtract } from './baseline.js';
import { readBenchEnv } from './env.js';
import { cleanupScratch, hasGnuTime } from './proc.js';
import { type Machine, type RunSample, type StepSample, summarize } from './report.js';
import { type ServerHandle, startBlobServer, startTrove } from './servers.js';
import { fmtBytes, fmtMs } from './stats.js';
import { treeHash } from './tree-hash.js';
import { TroveCli } from './trove.js';
import { applyStep, generateWorkspace } from './workload.js';

/**
 * End-to-end benchmark: an agent-like workspace pushed after every edit
 * step, pulled back three ways, every restore verified, against the
 * one-tar.gz-per-version baseline on the same data in the same run.
 * Knobs: TROVE_BENCH_SCALE (size), TROVE_BENCH_STEPS, TROVE_BENCH_RUNS,
 * TROVE_BENCH_FORMAT (tar.gz | tar.zst), TROVE_BENCH_KEEP=1 (keep bench/.cache/run-*). See docs/benchmarks-e2e.md.
 */

// dist/bench/run.js → repo root; the cache stays in the source tree (git-ignored).
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CACHE = join(ROOT, 'bench', '.cache');
// TROVE_BENCH_BIN benches another build of the CLI (e.g. an installed release).
const benchEnv = readBenchEnv();
const BIN = benchEnv.bin ?? join(ROOT, 'bin', 'trove.js');
const STORAGE = 'bench-ws';

// Archive format trove materializes and pulls; the baseline stays tar.gz (the baseline).
const FORMAT = benchEnv.format;

const config = {
  scale: benchEnv.scale,
  steps: benchEnv.steps,
  runs: benchEnv.runs,
  format: FORMAT,
  backend: benchEnv.backend,
  gnuTime: hasGnuTime,
};
const keep = benchEnv.keep;
const say = (msg: string): void => void process.stderr.write(`[bench] ${msg}\n`);

function dirBytes(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += dirBytes(p);
    else if (e.isFile()) total += statSync(p).size;
  }
  return total;
}

/** A fresh empty directory. */
function fresh(dir: string): string {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Fails loudly when a restore differs from the source tree. */
function verify(what: string, dir: string, expected: string): void {
  const got = treeHash(dir).digest;
  if (got !== expected) throw new Error(`${what}: restored tree ${dir} differs from the source`);
}

async function oneRun(run: number): Promise<{ steps: StepSample[]; total: RunSample }> {
  const base = fresh(join(CACHE, `run-${run}`));
  const ws = join(base, 'ws');
  const data = join(base, 'data');
  const t0 = performance.now();
  generateWorkspace(ws, config);
  say(`run ${run}: workspace generated in ${fmtMs(performance.now() - t0)}`);
  let backend: BenchBackend | null = null;
  let trove: ServerHandle | null = null;
  let blobs: ServerHandle | null = null;
  const steps: StepSample[] = [];
  try {
    backend = await openBenchBackend(config.backend, data);
    trove = await startTrove(BIN, data, { ...backend.env, TROVE_ARCHIVE_FORMATS: FORMAT });
    blobs = await startBlobServer(join(base, 'baseline-store'));
    const cli = new TroveCli(BIN, trove.url, join(base, 'stat-cache'));
    const inc = fresh(join(base, 'incremental'));
    // Alternate who goes first so neither side always gets the warmer cache.
    const troveFirst = run % 2 === 0;
    for (let step = 0; step <= config.steps; step++) {
      if (step > 0) applyStep(ws, step, config);
      const src = treeHash(ws);
      const pushTrove = async () => {
        const p = await cli.push(ws, STORAGE, `step ${step}`);
        const materializeMs = await cli.waitArchive(STORAGE, p.out.version, FORMAT);
        return { p, materializeMs };
      };
      const pushBase = () =>
        baselinePush(ws, join(base, `v${step}.tar.gz`), `${blobs!.url}/v${step}.tar.gz`);
      let tp: Awaited<ReturnType<typeof pushTrove>>;
      let bp: Awaited<ReturnType<typeof pushBase>>;
      if (troveFirst) {
        tp = await pushTrove();
        bp = await pushBase();
      } else {
        bp = await pushBase();
        tp = await pushTrove();
      }
      const version = tp.p.out.version;
      const archive = backend.findArchive(version, FORMAT);
      if (archive === null) throw new Error(`archive file of ${version} not found in the store`);

      const outDir = join(base, 'out');
      const pulls = {
        archive: async () => {
          const r = await cli.pull(`${STORAGE}@${version}`, fresh(outDir), ['--format', FORMAT]);
          verify('pull via archive', outDir, src.digest);
          return r;
        },
        packs: async () => {
          const r = await cli.pull(`${STORAGE}@${version}`, fresh(outDir), ['--no-archive']);
          verify('pull via packs', outDir, src.digest);
          return r;
        },
        basePull: async () => {
          const r = await baselinePull(`${blobs!.url}/v${step}.tar.gz`, fresh(outDir));
          verify('baseline pull', outDir, src.digest);
          return r;
        },
        localTar: async () => {
          const r = await localExtract(archive, fresh(outDir), FORMAT);
          verify("tar -x of trove's archive", outDir, src.digest);
          return r;
        },
      };
      const order = ['archive', 'basePull', 'localTar', 'packs'] as const;
      const done: Partial<Record<(typeof order)[number], unknown>> = {};
      for (const k of troveFirst ? order : [...order].reverse()) done[k] = await pulls[k]();
      const pa = done.archive as Awaited<ReturnType<typeof pulls.archive>>;
      const pp = done.packs as Awaited<ReturnType<typeof pulls.packs>>;
      const bl = done.basePull as Awaited<ReturnType<typeof pulls.basePull>>;
      const lt = done.localTar as Awaited<ReturnType<typeof pulls.localTar>>;
      const pi = await cli.pull(`${STORAGE}@${version}`, inc);
      verify('incremental pull', inc, src.digest);
      rmSync(outDir, { recursive: true, force: true });

      const op = (
        r: { ms: number; rssKiB: number | null; cpuMs: number | null; out: { durationMs: number } },
        bytes: number,
        requests: number,
      ) => ({
        ms: r.ms,
        rssKiB: r.rssKiB,
        cpuMs: r.cpuMs,
        bytes,
        requests,
        reportedMs: r.out.durationMs,
      });
      steps.push({
        run,
        step,
        treeBytes: src.bytes,
        push: {
          ...op(tp.p, tp.p.out.bytesUploaded, tp.p.out.requests),
          chunks: tp.p.out.chunksUploaded,
          packs: tp.p.out.packsUploaded,
          filesHashed: tp.p.out.filesHashed,
        },
        materializeMs: tp.materializeMs,
        archiveBytes: statSync(archive).size,
        pullArchive: { ...op(pa, pa.out.bytesDownloaded, pa.out.requests), source: pa.out.source },
        pullPacks: { ...op(pp, pp.out.bytesDownloaded, pp.out.requests), source: pp.out.source },
        pullIncremental: {
          ...op(pi, pi.out.bytesDownloaded, pi.out.requests),
          source: pi.out.source,
          chunksReused: pi.out.chunksReused,
        },
        localTarXzf: lt,
        basePush: bp,
        basePull: bl,
      });
      say(
        `run ${run} step ${step}: push ${fmtMs(tp.p.ms)} ${fmtBytes(tp.p.out.bytesUploaded)} ` +
          `(tar.gz ${fmtBytes(bp.bytes)} in ${fmtMs(bp.ms)}), materialize ${fmtMs(tp.materializeMs)}, ` +
          `pull archive ${fmtMs(pa.ms)} / packs ${fmtMs(pp.ms)} / incr ${fmtMs(pi.ms)} ` +
          `${fmtBytes(pi.out.bytesDownloaded)} (${pi.out.source}), baseline ${fmtMs(bl.ms)}, ` +
          `local tar -xzf ${fmtMs(lt.ms)}`,
      );
    }
    const serverRssKiB = trove.peakRssKiB();
    return {
      steps,
      total: {
        run,
        serverRssKiB,
        troveStoredBytes: backend.storedBytes(),
        baselineStoredBytes: dirBytes(join(base, 'baseline-store')),
      },
    };
  } catch (e) {
    if (trove !== null) say(`trove server output:\n${trove.log()}`);
    throw e;
  } finally {
    await trove?.stop();
    await blobs?.stop();
    await backend?.close();
    if (!keep) rmSync(base, { recursive: true, force: true });
  }
}

/** `run.js --report`: re-renders the table from results.json (e.g. after changing the report). */
function rerender(): void {
  const saved = JSON.parse(readFileSync(join(CACHE, 'results.json'), 'utf8')) as {
    config: Record<string, unknown>;
    machine: Machine;
    samples: { steps: StepSample[]; runs: RunSample[] };
  };
  const summary = summarize(saved.samples.steps, saved.samples.runs, saved.config, saved.machine);
  process.stdout.write(`${summary.markdown}\n`);
}

async function main(): Promise<void> {
  if (process.argv.includes('--report')) return rerender();
  if (benchEnv.bin === undefined && !existsSync(join(ROOT, 'dist', 'src', 'cli', 'main.js'))) {
    throw new Error('dist/src/cli/main.js missing: run `npm run build` (npm run bench does)');
  }
  mkdirSync(CACHE, { recursive: true });
  say(`config ${JSON.stringify(config)}`);
  const steps: StepSample[] = [];
  const runs: RunSample[] = [];
  for (let run = 0; run < config.runs; run++) {
    const r = await oneRun(run);
    steps.push(...r.steps);
    runs.push(r.total);
  }
  const summary = summarize(steps, runs, config);
  writeFileSync(
    join(CACHE, 'results.json'),
    `${JSON.stringify({ date: new Date().toISOString(), ...summary, samples: { steps, runs } }, null, 2)}\n`,
  );
  process.stdout.write(`${summary.markdown}\n`);
  say(`results written to ${join(CACHE, 'results.json')}`);
}

main()
  .catch((e: unknown) => {
    process.stderr.write(`[bench] failed: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exitCode = 1;
  })
  .finally(cleanupScratch);
