import { readBenchEnv } from '../env.js';

/**
 * Knobs of `npm run bench:compare`, read from the environment once and
 * validated here (nothing else in bench/compare reads process.env).
 */

// tiny (~5 MB) is for smoke runs of the bench itself.
export const SIZES = ['tiny', 'small', 'medium', 'large'] as const;
export type SizeName = (typeof SIZES)[number];
export const TOOLS = ['trove', 'tarball', 'restic', 'borg', 'git'] as const;
export type ToolName = (typeof TOOLS)[number];
export const WORKLOADS = ['workspace', 'typescript', 'date-fns'] as const;
export type WorkloadName = (typeof WORKLOADS)[number];

export interface CompareEnv {
  /** Synthetic workspace sizes to run (large is opt-in: ~2 GB, 100k files). */
  sizes: SizeName[];
  /** Workloads: the synthetic workspace (at each size) and real npm release histories. */
  workloads: WorkloadName[];
  /** Tools to compare; trove is always included (every ratio is against it). */
  tools: ToolName[];
  /** Repetitions; tables show medians. */
  runs: number;
  /** Edit sequence of the synthetic workspace, as percentages of files touched. */
  edits: number[];
  /** Releases per package (the newest N of the pinned list). */
  releaseCount: number;
  /** Keep each run's directories (workspace, repositories) for inspection. */
  keep: boolean;
  /** Another build of the CLI to bench (TROVE_BENCH_BIN), or undefined for this checkout. */
  bin: string | undefined;
  /** Commit named in the report when the benched build is not a git checkout (a frozen copy). */
  commit: string | undefined;
  /** Epoch ms after which no further workload run is started (TROVE_COMPARE_DEADLINE, ISO time). */
  deadline: number | undefined;
}

function list<T extends string>(
  env: NodeJS.ProcessEnv,
  name: string,
  allowed: readonly T[],
  fallback: T[],
): T[] {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  if (raw.trim() === 'none') return [];
  const items = raw.split(',').map((s) => s.trim());
  for (const i of items) {
    if (!allowed.includes(i as T))
      throw new Error(`${name}: ${i} is not one of ${allowed.join(', ')}`);
  }
  return [...new Set(items as T[])];
}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const raw = env[name];
  const n = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer ≥ ${min}`);
  return n;
}

function deadline(raw: string | undefined): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const t = Date.parse(raw);
  if (!Number.isFinite(t)) throw new Error('TROVE_COMPARE_DEADLINE must be an ISO date-time');
  return t;
}

export function readCompareEnv(env: NodeJS.ProcessEnv = process.env): CompareEnv {
  const edits = (env.TROVE_COMPARE_EDITS || '1,10,1').split(',').map(Number);
  if (edits.some((e) => !Number.isFinite(e) || e <= 0 || e > 100)) {
    throw new Error('TROVE_COMPARE_EDITS must be percentages in (0, 100], e.g. 1,1,10');
  }
  const tools = list(env, 'TROVE_COMPARE_TOOLS', TOOLS, [...TOOLS]);
  return {
    sizes: list(env, 'TROVE_COMPARE_SIZES', SIZES, ['small', 'medium']),
    workloads: list(env, 'TROVE_COMPARE_WORKLOADS', WORKLOADS, [...WORKLOADS]),
    tools: tools.includes('trove') ? tools : ['trove', ...tools],
    runs: int(env, 'TROVE_COMPARE_RUNS', 3, 1),
    edits,
    releaseCount: int(env, 'TROVE_COMPARE_RELEASES', 8, 2),
    keep: env.TROVE_COMPARE_KEEP === '1',
    bin: readBenchEnv(env).bin,
    commit: env.TROVE_COMPARE_COMMIT || undefined,
    deadline: deadline(env.TROVE_COMPARE_DEADLINE),
  };
}
