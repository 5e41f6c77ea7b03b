import { type CompareEnv, SIZES } from './env.js';
import { fetchRelease, RELEASES, syncTo } from './releases.js';
import { applyEdit, generate } from './synthetic.js';

/**
 * The sequences of trees every tool stores, version by version: the
 * synthetic workspace at each size with its edit sequence, and the real
 * release histories. `prepare(ws, v)` turns the tree in `ws` (holding
 * version v-1) into version v.
 */

export interface Workload {
  /** e.g. workspace-medium, typescript. */
  id: string;
  /** What each version is: cold (the first), an edit percentage, or a release number. */
  kinds: string[];
  /** Targets apply to the medium workspace and the release histories. */
  targeted: boolean;
  prepare(ws: string, v: number): void;
}

export function workloads(env: CompareEnv, cache: string): Workload[] {
  const out: Workload[] = [];
  // Release histories first, then the workspace from the largest size down: when a deadline
  // cuts the runs short, the targeted workloads have the most samples.
  for (const pkg of ['typescript', 'date-fns'] as const) {
    if (!env.workloads.includes(pkg)) continue;
    const versions = RELEASES[pkg]!.slice(-env.releaseCount);
    // Fetched up front, so downloads never land inside a measured run.
    const dirs = versions.map((ver) => fetchRelease(cache, pkg, ver));
    out.push({
      id: pkg,
      kinds: versions.map((ver, i) => (i === 0 ? 'cold' : `release ${ver}`)),
      targeted: true,
      prepare: (ws, v) => syncTo(ws, dirs[v]!),
    });
  }
  if (env.workloads.includes('workspace')) {
    for (const size of [...env.sizes].sort((a, b) => SIZES.indexOf(b) - SIZES.indexOf(a))) {
      out.push({
        id: `workspace-${size}`,
        kinds: ['cold', ...env.edits.map((e) => `${e}%`)],
        targeted: size === 'medium',
        prepare: (ws, v) => (v === 0 ? generate(ws, size) : applyEdit(ws, v, env.edits[v - 1]!)),
      });
    }
  }
  return out;
}

/** The kind of change a version was, for grouping medians ('cold', '1%', '10%', 'release'). */
export function kindGroup(kind: string): string {
  return kind.startsWith('release') ? 'release' : kind;
}
