import { fmtBytes, fmtRatio, fmtRss, median } from '../stats.js';
import type { Summary } from './summary.js';

/**
 * The targets, judged on the medium workspace and the release
 * histories (peak RSS at every size). Each verdict carries the numbers it
 * was judged on, so the report can say by how much.
 */

export interface Verdict {
  target: string;
  workload: string;
  met: boolean | null;
  detail: string;
}

const peers = (s: Summary) => s.tools().filter((t) => t !== 'trove');
const worst = (xs: [string, number | null][]) =>
  xs.filter((x): x is [string, number] => x[1] !== null).sort((a, b) => a[1] - b[1])[0];

function fasterThanAll(w: string, target: string, ratios: [string, number | null][]): Verdict {
  const low = worst(ratios);
  const list = ratios.map(([t, r]) => `${t} ${fmtRatio(r)}`).join(', ');
  return {
    target,
    workload: w,
    met: low === undefined ? null : low[1] > 1,
    detail: `peer time ÷ trove time (paired medians): ${list}`,
  };
}

export function verdicts(s: Summary): Verdict[] {
  const out: Verdict[] = [];
  for (const w of s.r.workloads.filter((x) => x.targeted).map((x) => x.id)) {
    const inc = { op: 'push' as const, groups: s.groups(w) };
    out.push(
      fasterThanAll(
        w,
        'incremental push faster than every peer',
        peers(s).map((t) => [t, s.paired(w, t, inc)]),
      ),
    );
    if (s.tools().includes('tarball')) {
      const g = s.groups(w).includes('1%') ? '1%' : 'release';
      const r = s.paired(w, 'tarball', { op: 'push', groups: [g] }, (x) => x.bytes);
      out.push({
        target: `≥100× fewer bytes sent than tar.gz on a ${g === '1%' ? '1% edit' : 'release step'}`,
        workload: w,
        met: r === null ? null : r >= 100,
        detail: `${fmtRatio(r)} fewer`,
      });
    }
    const st = s.stored(w, 'trove');
    const cmp = peers(s)
      .filter((t) => t !== 'tarball')
      .map((t) => `${t} ${fmtBytes(s.stored(w, t))}`);
    const bound = (t: string, f: number) =>
      s.tools().includes(t as never) ? (s.stored(w, t as never) ?? Infinity) * f : Infinity;
    out.push({
      target: 'stored ≤ restic and borg, ≤ 1.1× git after gc --aggressive',
      workload: w,
      met:
        st === null
          ? null
          : st <= Math.min(bound('restic', 1), bound('borg', 1), bound('git', 1.1)),
      detail: `trove ${fmtBytes(st)} (packs ${fmtBytes(s.stored(w, 'trove', 'packs'))}, archives ${fmtBytes(s.stored(w, 'trove', 'archives'))}); ${cmp.join(', ')}`,
    });
    const cold = { op: 'restore' as const };
    const ratios: [string, number | null][] = peers(s).map((t) => [t, s.paired(w, t, cold)]);
    if (s.tools().includes('tarball')) {
      const local = s.samples(w, 'tarball', { op: 'restoreLocal' });
      const mine = s.samples(w, 'trove', cold);
      ratios.push([
        'tar -xzf (local file)',
        median(
          mine.map((t) => {
            const o = local.find((x) => x.run === t.run);
            return o === undefined ? null : o.ms / t.ms;
          }),
        ),
      ]);
    }
    out.push(fasterThanAll(w, 'cold restore faster than every peer', ratios));
    const upd = s.samples(w, 'trove', { op: 'update' });
    const pushes = s.samples(w, 'trove', { op: 'push' });
    const over = upd.map((u) => {
      const p = pushes.find((x) => x.run === u.run && x.version === u.version);
      return p?.bytes == null || u.bytes === null || p.bytes === 0 ? null : u.bytes / p.bytes;
    });
    const m = median(over);
    out.push({
      target: 'incremental restore receives ≤ 1.2× the compressed size of the change',
      workload: w,
      met: m === null ? null : m <= 1.2,
      detail: `received ÷ pushed for the same version: median ${fmtRatio(m)}, worst ${fmtRatio(Math.max(...over.filter((x): x is number => x !== null)))}`,
    });
  }
  for (const w of s.r.workloads.map((x) => x.id)) {
    const rss = (op: 'push' | 'restore' | 'update') => s.max(w, 'trove', { op }, (x) => x.rssKiB);
    const pull = Math.max(rss('restore') ?? 0, rss('update') ?? 0);
    const server = s.extra(w, 'serverRssKiB', 'max');
    const limit = 300 * 1024;
    out.push({
      target: 'peak RSS of push, pull and the worker < 300 MB',
      workload: w,
      met: (rss('push') ?? 0) < limit && pull < limit && (server ?? 0) < limit,
      detail: `push ${fmtRss(rss('push'))}, pull ${fmtRss(pull)}, server (API + worker + embedded PGlite, one process) ${fmtRss(server)}`,
    });
  }
  return out;
}
