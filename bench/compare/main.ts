import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanupScratch } from '../proc.js';
import { readCompareEnv } from './env.js';
import { ensureTools, machineInfo } from './machine.js';
import { writeReport } from './report.js';
import { loadResults, type Results, saveResults } from './results.js';
import { runScenario } from './scenario.js';
import { workloads } from './workloads.js';

/**
 * `npm run bench:compare`: trove against the tar.gz-per-version baseline,
 * restic, borg and git on the same trees, in the same runs, on the same
 * machine; writes docs/benchmarks.md and docs/benchmarks/*.svg.
 * `--report` re-renders them from bench/.cache/compare/results.json.
 */

// dist/bench/compare/main.js → repo root.
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const CACHE = join(ROOT, 'bench', '.cache');
const OUT = join(CACHE, 'compare');
const RESULTS = join(OUT, 'results.json');
const say = (msg: string): void =>
  void process.stderr.write(`[compare ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

function commit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: ROOT,
      encoding: 'utf8',
    }).trim();
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  if (process.argv.includes('--report')) {
    writeReport(loadResults(RESULTS), ROOT);
    say(`wrote docs/benchmarks.md and docs/benchmarks/*.svg from ${RESULTS}`);
    return;
  }
  const env = readCompareEnv();
  const bin = env.bin ?? join(ROOT, 'bin', 'trove.js');
  if (env.bin === undefined && !existsSync(join(ROOT, 'dist', 'src', 'cli', 'main.js'))) {
    throw new Error(
      'dist/src/cli/main.js missing: run `npm run build` (npm run bench:compare does)',
    );
  }
  mkdirSync(OUT, { recursive: true });
  say(`config ${JSON.stringify(env)}`);
  ensureTools(env.tools, say);
  const list = workloads(env, CACHE);
  const results: Results = {
    date: new Date().toISOString(),
    commit: env.commit ?? commit(),
    env,
    machine: machineInfo(),
    workloads: list.map((w) => ({ id: w.id, kinds: w.kinds, targeted: w.targeted })),
    samples: [],
    totals: [],
  };
  // Runs outermost: every workload is measured once before any is measured again,
  // so a slow period on the shared machine spreads over all of them.
  for (let run = 0; run < env.runs; run++) {
    for (const w of list) {
      // A shared machine gives a time slot: past it, report what was measured rather than overrun.
      if (env.deadline !== undefined && Date.now() > env.deadline) {
        say(`deadline passed: ${w.id} run ${run} not started`);
        results.stoppedAtDeadline = true;
        continue;
      }
      const r = await runScenario(env, w, run, OUT, bin, say);
      results.samples.push(...r.samples);
      results.totals.push(...r.totals);
      saveResults(RESULTS, results); // partial results survive an interrupted run
    }
  }
  results.machine = machineInfo(); // load average at the end of the run
  saveResults(RESULTS, results);
  writeReport(results, ROOT);
  say(`results in ${RESULTS}; wrote docs/benchmarks.md and docs/benchmarks/*.svg`);
}

main()
  .catch((e: unknown) => {
    process.stderr.write(`[compare] failed: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exitCode = 1;
  })
  .finally(cleanupScratch);
