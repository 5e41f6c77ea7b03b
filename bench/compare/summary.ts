import { median } from '../stats.js';
import type { ToolName } from './env.js';
import type { OpName, Results, Sample } from './results.js';
import { kindGroup } from './workloads.js';

/**
 * Medians per workload and tool, and ratios against trove taken pair by
 * pair (the same run and version, minutes apart) before the median, so the
 * drifting load of a shared machine cancels as far as it can.
 */

export type Pick = (s: Sample) => number | null | undefined;
const ms: Pick = (s) => s.ms;

export interface Selector {
  op: OpName;
  /** Version kinds to include (after kindGroup); undefined = all. */
  groups?: string[];
}

export class Summary {
  constructor(readonly r: Results) {}

  samples(workload: string, tool: ToolName, sel: Selector): Sample[] {
    return this.r.samples.filter(
      (s) =>
        s.workload === workload &&
        s.tool === tool &&
        s.op === sel.op &&
        (sel.groups === undefined || sel.groups.includes(kindGroup(s.kind))),
    );
  }

  med(workload: string, tool: ToolName, sel: Selector, f: Pick = ms): number | null {
    return median(this.samples(workload, tool, sel).map(f));
  }

  max(workload: string, tool: ToolName, sel: Selector, f: Pick): number | null {
    const v = this.samples(workload, tool, sel)
      .map(f)
      .filter((x): x is number => typeof x === 'number');
    return v.length === 0 ? null : Math.max(...v);
  }

  /** Median over pairs (same run, version) of other ÷ trove; > 1 means trove is faster / smaller. */
  paired(workload: string, other: ToolName, sel: Selector, f: Pick = ms): number | null {
    const mine = this.samples(workload, 'trove', sel);
    const theirs = this.samples(workload, other, sel);
    const ratios = mine.map((t) => {
      const o = theirs.find((x) => x.run === t.run && x.version === t.version);
      const a = o === undefined ? null : f(o);
      const b = f(t);
      return a == null || b == null || b === 0 ? null : a / b;
    });
    return median(ratios);
  }

  /** Median final stored bytes (after compaction) of a tool. */
  stored(workload: string, tool: ToolName, part = 'total'): number | null {
    return median(
      this.r.totals
        .filter((t) => t.workload === workload && t.tool === tool)
        .map((t) => t.stored[part]),
    );
  }

  storedBeforeCompact(workload: string, tool: ToolName): number | null {
    return median(
      this.r.totals
        .filter((t) => t.workload === workload && t.tool === tool)
        .map((t) => t.storedBeforeCompact),
    );
  }

  /** Paired (same run) ratio of final stored bytes, other ÷ trove. */
  storedRatio(workload: string, other: ToolName): number | null {
    const mine = this.r.totals.filter((t) => t.workload === workload && t.tool === 'trove');
    return median(
      mine.map((t) => {
        const o = this.r.totals.find(
          (x) => x.workload === workload && x.tool === other && x.run === t.run,
        );
        return o === undefined || t.stored.total === 0 ? null : o.stored.total / t.stored.total;
      }),
    );
  }

  extra(workload: string, key: string, agg: 'median' | 'max' = 'median'): number | null {
    const v = this.r.totals
      .filter((t) => t.workload === workload && t.tool === 'trove')
      .map((t) => t.extra[key] ?? null);
    if (agg === 'median') return median(v);
    const nums = v.filter((x): x is number => x !== null);
    return nums.length === 0 ? null : Math.max(...nums);
  }

  /** Median stored bytes after each version's push, per tool (for the chart). */
  storedSeries(workload: string, tool: ToolName): (number | null)[] {
    const kinds = this.r.workloads.find((w) => w.id === workload)?.kinds ?? [];
    return kinds.map((_, v) =>
      median(
        this.samples(workload, tool, { op: 'push' })
          .filter((s) => s.version === v)
          .map((s) => s.stored),
      ),
    );
  }

  /** Edit groups present in a workload, beyond the cold version ('1%', '10%', 'release'). */
  groups(workload: string): string[] {
    const kinds = this.r.workloads.find((w) => w.id === workload)?.kinds ?? [];
    return [...new Set(kinds.slice(1).map(kindGroup))];
  }

  tools(): ToolName[] {
    return this.r.env.tools;
  }

  runsOf(workload: string): number {
    return new Set(this.r.totals.filter((t) => t.workload === workload).map((t) => t.run)).size;
  }
}
