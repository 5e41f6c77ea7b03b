import { readFileSync, writeFileSync } from 'node:fs';
import type { CompareEnv, ToolName } from './env.js';
import type { MachineInfo } from './machine.js';
import type { OpSample, StoredBytes } from './tool.js';

/**
 * The raw samples of a comparison run, as saved in
 * bench/.cache/compare/results.json (git-ignored) and re-rendered by
 * `node dist/bench/compare/main.js --report`.
 */

export type OpName = 'push' | 'update' | 'restore' | 'restoreLocal' | 'compact';

/** One measured operation. */
export interface Sample extends OpSample {
  workload: string;
  run: number;
  tool: ToolName;
  op: OpName;
  version: number;
  /** What the version was: cold, 1%, 10%, release X. */
  kind: string;
  /** Store size after this push. */
  stored?: number;
  /** Size of the source tree (push rows). */
  treeBytes?: number;
  /** trove: commit → archive ready. */
  materializeMs?: number;
}

/** Per run, workload and tool. */
export interface ToolTotals {
  workload: string;
  run: number;
  tool: ToolName;
  storedBeforeCompact: number;
  stored: StoredBytes;
  /** trove: server peak RSS and CPU (API + worker + embedded PostgreSQL). */
  extra: Record<string, number | null>;
}

export interface Results {
  date: string;
  commit: string;
  env: CompareEnv;
  machine: MachineInfo;
  /** Workload ids in the order they ran, with the kind of each version. */
  workloads: { id: string; kinds: string[]; targeted: boolean }[];
  samples: Sample[];
  totals: ToolTotals[];
  /** Some runs were skipped because TROVE_COMPARE_DEADLINE passed. */
  stoppedAtDeadline?: boolean;
}

export function saveResults(file: string, r: Results): void {
  writeFileSync(file, `${JSON.stringify(r, null, 1)}\n`);
}

export function loadResults(file: string): Results {
  return JSON.parse(readFileSync(file, 'utf8')) as Results;
}
