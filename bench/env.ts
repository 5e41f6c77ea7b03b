/**
 * The bench's knobs, read from the environment once and validated here;
 * the bench scripts read nothing else from process.env (child processes
 * inherit it unchanged).
 */
export interface BenchEnv {
  /** Workspace size multiplier (1 ≈ 150 MB). */
  scale: number;
  /** Edit steps after the cold version. */
  steps: number;
  /** Repetitions of the whole sequence; tables show medians. */
  runs: number;
  /** Archive format trove materializes and pulls (the baseline stays tar.gz). */
  format: 'tar.gz' | 'tar.zst';
  /** Keep bench/.cache/run-* after the run. */
  keep: boolean;
  /** Another build of the CLI to bench (e.g. a frozen copy), or undefined for this one. */
  bin: string | undefined;
  /** Where trove keeps its data: embedded (PGlite + disk) or PostgreSQL + an S3-compatible server. */
  backend: 'embedded' | 'postgres+s3';
}

function positive(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  const n = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number`);
  return n;
}

export function readBenchEnv(env: NodeJS.ProcessEnv = process.env): BenchEnv {
  const format = env.TROVE_BENCH_FORMAT ?? 'tar.gz';
  if (format !== 'tar.gz' && format !== 'tar.zst') {
    throw new Error('TROVE_BENCH_FORMAT must be tar.gz or tar.zst');
  }
  const backend = env.TROVE_BENCH_BACKEND || 'embedded';
  if (backend !== 'embedded' && backend !== 'postgres+s3') {
    throw new Error('TROVE_BENCH_BACKEND must be embedded or postgres+s3');
  }
  return {
    backend,
    scale: positive(env, 'TROVE_BENCH_SCALE', 1),
    steps: Math.round(positive(env, 'TROVE_BENCH_STEPS', 5)),
    runs: Math.round(positive(env, 'TROVE_BENCH_RUNS', 3)),
    format,
    keep: env.TROVE_BENCH_KEEP === '1',
    bin: env.TROVE_BENCH_BIN || undefined,
  };
}
