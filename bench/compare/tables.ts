import { fmtBytes, fmtCount, fmtMs, fmtRatio, fmtRss } from '../stats.js';
import { SIZES, type SizeName, type ToolName } from './env.js';
import type { OpName, Sample } from './results.js';
import type { Pick, Summary } from './summary.js';

/**
 * The markdown tables of docs/benchmarks.md: one per workload (every tool
 * in a column, time cells with the paired ratio against trove) and the
 * scaling table of the synthetic workspace.
 */

export const LABEL: Record<ToolName, string> = {
  trove: 'trove',
  tarball: 'tar.gz per version',
  restic: 'restic',
  borg: 'borg',
  git: 'git',
};

const cpuOf: Pick = (x) => x.cpuMs;
const rssOf: Pick = (x) => x.rssKiB;
const bytesOf: Pick = (x) => x.bytes;

type Cell = (t: ToolName) => string;

function timeCell(s: Summary, w: string, op: OpName, groups?: string[]): Cell {
  const sel = groups === undefined ? { op } : { op, groups };
  return (t) => {
    const m = s.med(w, t, sel);
    if (m === null) return '—';
    if (t === 'trove') return fmtMs(m);
    return `${fmtMs(m)} (${fmtRatio(s.paired(w, t, sel))})`;
  };
}

export function workloadTable(s: Summary, w: string): string[] {
  const tools = s.tools();
  const groups = s.groups(w);
  const cold = { op: 'push' as const, groups: ['cold'] };
  const rows: [string, Cell][] = [
    ['cold push', timeCell(s, w, 'push', ['cold'])],
    ...groups.map((g): [string, Cell] => [`incremental push (${g})`, timeCell(s, w, 'push', [g])]),
    ['bytes sent, cold push', (t) => fmtBytes(s.med(w, t, cold, bytesOf))],
    ...groups.map((g): [string, Cell] => [
      `bytes sent, incremental (${g})`,
      (t) => fmtBytes(s.med(w, t, { op: 'push', groups: [g] }, bytesOf)),
    ]),
    [
      'requests per push (cold / incr.)',
      (t) =>
        t === 'trove' || t === 'tarball'
          ? `${fmtCount(s.med(w, t, cold, (x) => x.requests))} / ${fmtCount(s.med(w, t, { op: 'push', groups }, (x) => x.requests))}`
          : '—',
    ],
    [
      'materialize (commit → archive ready)',
      (t) => (t === 'trove' ? fmtMs(s.med(w, t, { op: 'push' }, (x) => x.materializeMs)) : '—'),
    ],
    ['cold restore of the latest version', timeCell(s, w, 'restore')],
    [
      '  local `tar -xzf` of the same tar.gz',
      (t) => (t === 'tarball' ? fmtMs(s.med(w, t, { op: 'restoreLocal' })) : ''),
    ],
    ['incremental restore (holding previous)', timeCell(s, w, 'update')],
    [
      '  bytes / requests received, cold and incr. restore',
      (t) => {
        if (t !== 'trove' && t !== 'tarball') return 'n/a';
        const req = (x: Sample) => x.requests;
        const c = `${fmtBytes(s.med(w, t, { op: 'restore' }, bytesOf))} / ${fmtCount(s.med(w, t, { op: 'restore' }, req))}`;
        return `${c}; ${fmtBytes(s.med(w, t, { op: 'update' }, bytesOf))} / ${fmtCount(s.med(w, t, { op: 'update' }, req))}`;
      },
    ],
    [
      'stored after all versions',
      (t) =>
        `${fmtBytes(s.stored(w, t))}${t === 'trove' ? '' : ` (${fmtRatio(s.storedRatio(w, t))})`}`,
    ],
    [
      '  of which',
      (t) =>
        t === 'trove'
          ? `packs ${fmtBytes(s.stored(w, t, 'packs'))}, archives ${fmtBytes(s.stored(w, t, 'archives'))}, manifests ${fmtBytes(s.stored(w, t, 'manifests'))} (+ database ${fmtBytes(s.stored(w, t, 'database'))})`
          : t === 'git'
            ? `before gc ${fmtBytes(s.storedBeforeCompact(w, t))}; gc took ${fmtMs(s.med(w, t, { op: 'compact' }))}`
            : '',
    ],
    [
      'CPU, cold / incr. push',
      (t) =>
        `${fmtMs(s.med(w, t, cold, cpuOf))} / ${fmtMs(s.med(w, t, { op: 'push', groups }, cpuOf))}`,
    ],
    [
      'CPU, cold / incr. restore',
      (t) =>
        `${fmtMs(s.med(w, t, { op: 'restore' }, cpuOf))} / ${fmtMs(s.med(w, t, { op: 'update' }, cpuOf))}`,
    ],
    ['peak RSS, push', (t) => fmtRss(s.max(w, t, { op: 'push' }, rssOf))],
    [
      'peak RSS, restore (cold / incr.)',
      (t) =>
        `${fmtRss(s.max(w, t, { op: 'restore' }, rssOf))} / ${fmtRss(s.max(w, t, { op: 'update' }, rssOf))}`,
    ],
    [
      'server: peak RSS / CPU for the run',
      (t) =>
        t === 'trove'
          ? `${fmtRss(s.extra(w, 'serverRssKiB', 'max'))} / ${fmtMs(s.extra(w, 'serverCpuMs'))}`
          : '—',
    ],
  ];
  return [
    `| metric | ${tools.map((t) => LABEL[t]).join(' | ')} |`,
    `|---|${tools.map(() => '---').join('|')}|`,
    ...rows.map(([label, cell]) => `| ${label} | ${tools.map(cell).join(' | ')} |`),
  ];
}

const size = (id: string) => id.replace('workspace-', '') as SizeName;

/** trove at each size of the synthetic workspace (and the peers' cold push / restore). */
export function scalingTable(s: Summary): string[] {
  const ws = s.r.workloads
    .filter((w) => w.id.startsWith('workspace-'))
    .map((w) => w.id)
    .sort((a, b) => SIZES.indexOf(size(a)) - SIZES.indexOf(size(b)));
  const peers = s.tools().filter((t) => t !== 'trove');
  const head = [
    'size',
    'tree',
    'trove cold push',
    'incr. push (median)',
    'materialize',
    'cold pull',
    'incr. pull',
    'peak RSS push / pull / server',
    ...peers.map((p) => `${LABEL[p]} cold push / restore`),
  ];
  const rows = ws.map((w) => {
    const tree = s.med(w, 'trove', { op: 'push', groups: ['cold'] }, (x) => x.treeBytes);
    const pull = Math.max(
      s.max(w, 'trove', { op: 'restore' }, rssOf) ?? 0,
      s.max(w, 'trove', { op: 'update' }, rssOf) ?? 0,
    );
    return [
      w.replace('workspace-', ''),
      fmtBytes(tree),
      fmtMs(s.med(w, 'trove', { op: 'push', groups: ['cold'] })),
      fmtMs(s.med(w, 'trove', { op: 'push', groups: s.groups(w) })),
      fmtMs(s.med(w, 'trove', { op: 'push' }, (x) => x.materializeMs)),
      fmtMs(s.med(w, 'trove', { op: 'restore' })),
      fmtMs(s.med(w, 'trove', { op: 'update' })),
      `${fmtRss(s.max(w, 'trove', { op: 'push' }, rssOf))} / ${fmtRss(pull)} / ${fmtRss(s.extra(w, 'serverRssKiB', 'max'))}`,
      ...peers.map(
        (p) =>
          `${fmtMs(s.med(w, p, { op: 'push', groups: ['cold'] }))} / ${fmtMs(s.med(w, p, { op: 'restore' }))}`,
      ),
    ];
  });
  return [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ];
}
