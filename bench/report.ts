import { cpus, loadavg, totalmem } from 'node:os';
import { fmtBytes, fmtCount, fmtMs, fmtRatio, fmtRss, median, ratio } from './stats.js';

/**
 * Turns raw samples into the medians, target verdicts and markdown table
 * the bench prints and stores in results.json.
 */

/** One measured operation. */
export interface Op {
  ms: number;
  bytes: number;
  requests: number | null;
  rssKiB: number | null;
  /** User + system CPU of the client process (tar: with its gzip child). */
  cpuMs?: number | null;
  /** Duration the trove CLI itself reported (wall time minus process start-up and exit). */
  reportedMs?: number;
}

/** Everything measured for one version of one run. */
export interface StepSample {
  run: number;
  step: number;
  treeBytes: number;
  push: Op & { chunks: number; packs: number; filesHashed: number };
  materializeMs: number;
  archiveBytes: number;
  pullArchive: Op & { source: string };
  pullPacks: Op & { source: string };
  pullIncremental: Op & { source: string; chunksReused: number };
  localTarXzf: Op;
  basePush: Op;
  basePull: Op;
}

/** Per-run totals. */
export interface RunSample {
  run: number;
  serverRssKiB: number | null;
  troveStoredBytes: number;
  baselineStoredBytes: number;
}

type Row = [string, string, string, string];

/** Where the bench ran. */
export interface Machine {
  cpu: string;
  cores: number;
  ramGiB: number;
  node: string;
  platform: string;
  loadavgAtEnd: number[];
}

const cold = (s: StepSample[]): StepSample[] => s.filter((x) => x.step === 0);
const incr = (s: StepSample[]): StepSample[] => s.filter((x) => x.step > 0);
const med = (s: StepSample[], f: (x: StepSample) => number | null | undefined): number | null =>
  median(s.map(f));

/** Medians, verdicts and the markdown table. */
export function summarize(
  steps: StepSample[],
  runs: RunSample[],
  config: Record<string, unknown>,
  /** The machine recorded with saved samples (re-rendering must not describe today's load). */
  savedMachine?: Machine,
) {
  const c = cold(steps);
  const i = incr(steps);
  // Every version is pulled cold into an empty directory, so cold-pull rows use
  // all runs × versions (18 samples by default), not only the first version.
  const m = {
    coldPushMs: med(c, (x) => x.push.ms),
    coldPushBytes: med(c, (x) => x.push.bytes),
    coldPushRequests: med(c, (x) => x.push.requests),
    incPushMs: med(i, (x) => x.push.ms),
    incPushBytes: med(i, (x) => x.push.bytes),
    incPushRequests: med(i, (x) => x.push.requests),
    materializeMs: med(steps, (x) => x.materializeMs),
    archiveBytes: med(c, (x) => x.archiveBytes),
    pullArchiveMs: med(steps, (x) => x.pullArchive.ms),
    pullArchiveBytes: med(steps, (x) => x.pullArchive.bytes),
    pullPacksMs: med(steps, (x) => x.pullPacks.ms),
    pullPacksBytes: med(steps, (x) => x.pullPacks.bytes),
    pullPacksRequests: med(steps, (x) => x.pullPacks.requests),
    incPullMs: med(i, (x) => x.pullIncremental.ms),
    incPullBytes: med(i, (x) => x.pullIncremental.bytes),
    incPullRequests: med(i, (x) => x.pullIncremental.requests),
    localTarMs: med(steps, (x) => x.localTarXzf.ms),
    basePushColdMs: med(c, (x) => x.basePush.ms),
    basePushIncMs: med(i, (x) => x.basePush.ms),
    basePushBytes: med(c, (x) => x.basePush.bytes),
    basePushIncBytes: med(i, (x) => x.basePush.bytes),
    basePullMs: med(steps, (x) => x.basePull.ms),
    basePullIncMs: med(i, (x) => x.basePull.ms),
    basePullIncBytes: med(i, (x) => x.basePull.bytes),
    rssPush: med(steps, (x) => x.push.rssKiB),
    rssPullArchive: med(steps, (x) => x.pullArchive.rssKiB),
    rssPullPacks: med(steps, (x) => x.pullPacks.rssKiB),
    rssServer: median(runs.map((r) => r.serverRssKiB)),
    rssTarCzf: med(steps, (x) => x.basePush.rssKiB),
    rssTarXzf: med(steps, (x) => x.basePull.rssKiB),
    troveStored: median(runs.map((r) => r.troveStoredBytes)),
    baseStored: median(runs.map((r) => r.baselineStoredBytes)),
    treeBytes: med(c, (x) => x.treeBytes),
    // What the CLI reports about itself: the gap to wall time is process start-up and exit.
    coldPushReportedMs: med(c, (x) => x.push.reportedMs),
    incPushReportedMs: med(i, (x) => x.push.reportedMs),
    pullArchiveReportedMs: med(steps, (x) => x.pullArchive.reportedMs),
    pullPacksReportedMs: med(steps, (x) => x.pullPacks.reportedMs),
    incPullReportedMs: med(i, (x) => x.pullIncremental.reportedMs),
    incFilesHashed: med(i, (x) => x.push.filesHashed),
    cpuColdPush: med(c, (x) => x.push.cpuMs),
    cpuIncPush: med(i, (x) => x.push.cpuMs),
    cpuPullArchive: med(steps, (x) => x.pullArchive.cpuMs),
    cpuPullPacks: med(steps, (x) => x.pullPacks.cpuMs),
    cpuIncPull: med(i, (x) => x.pullIncremental.cpuMs),
    cpuTarCzf: med(steps, (x) => x.basePush.cpuMs),
    cpuTarXzfLocal: med(steps, (x) => x.localTarXzf.cpuMs),
  };
  const incBytesRatio = ratio(m.basePushIncBytes, m.incPushBytes);
  // Paired: tar and trove extract the same archive minutes apart, so the
  // per-version ratio cancels most of the machine's drifting load.
  const pullSpeed = median(steps.map((x) => ratio(x.localTarXzf.ms, x.pullArchive.ms)));
  const targets = {
    incrementalPushBytes20x: {
      value: incBytesRatio,
      met: incBytesRatio !== null && incBytesRatio >= 20,
    },
    archivePull80pctOfTar: { value: pullSpeed, met: pullSpeed !== null && pullSpeed >= 0.8 },
  };
  // Time: baseline ÷ trove, phrased so the number is always ≥ 1.
  const t = (a: number | null, b: number | null): string => {
    const r = ratio(b, a);
    if (r === null) return 'n/a';
    return r >= 1 ? `${fmtRatio(r)} faster` : `${fmtRatio(1 / r)} slower`;
  };
  const rows: Row[] = [
    [
      'cold push (time)',
      fmtMs(m.coldPushMs),
      fmtMs(m.basePushColdMs),
      t(m.coldPushMs, m.basePushColdMs),
    ],
    [
      'incremental push, ~1% change (time)',
      fmtMs(m.incPushMs),
      fmtMs(m.basePushIncMs),
      t(m.incPushMs, m.basePushIncMs),
    ],
    [
      'bytes uploaded, cold',
      fmtBytes(m.coldPushBytes),
      fmtBytes(m.basePushBytes),
      `${fmtRatio(ratio(m.basePushBytes, m.coldPushBytes))} fewer`,
    ],
    [
      'bytes uploaded, incremental',
      fmtBytes(m.incPushBytes),
      fmtBytes(m.basePushIncBytes),
      `${fmtRatio(incBytesRatio)} fewer`,
    ],
    [
      'requests per push (cold / incr.)',
      `${fmtCount(m.coldPushRequests)} / ${fmtCount(m.incPushRequests)}`,
      '1 / 1',
      '',
    ],
    ['materialize (commit → archive ready)', fmtMs(m.materializeMs), '— (built by client)', ''],
    [
      'cold pull via archive (empty dir, every version)',
      fmtMs(m.pullArchiveMs),
      fmtMs(m.basePullMs),
      t(m.pullArchiveMs, m.basePullMs),
    ],
    ['  bytes downloaded', fmtBytes(m.pullArchiveBytes), fmtBytes(m.basePushBytes), ''],
    [
      'cold pull via packs (--no-archive, every version)',
      fmtMs(m.pullPacksMs),
      fmtMs(m.basePullMs),
      t(m.pullPacksMs, m.basePullMs),
    ],
    [
      '  bytes / requests',
      `${fmtBytes(m.pullPacksBytes)} / ${fmtCount(m.pullPacksRequests)}`,
      `${fmtBytes(m.basePushBytes)} / 1`,
      '',
    ],
    [
      'incremental pull (holding previous version)',
      fmtMs(m.incPullMs),
      fmtMs(m.basePullIncMs),
      t(m.incPullMs, m.basePullIncMs),
    ],
    [
      '  bytes / requests',
      `${fmtBytes(m.incPullBytes)} / ${fmtCount(m.incPullRequests)}`,
      `${fmtBytes(m.basePullIncBytes)} / 1`,
      `${fmtRatio(ratio(m.basePullIncBytes, m.incPullBytes))} fewer bytes`,
    ],
    [
      `\`tar -x\` of trove's own ${String(config.format)} archive, local disk`,
      '',
      fmtMs(m.localTarMs),
      `pull = ${pullSpeed === null ? 'n/a' : `${Math.round(pullSpeed * 100)}%`} of tar speed (paired median)`,
    ],
    [
      'client CPU (user+sys), cold / incr. push',
      `${fmtMs(m.cpuColdPush)} / ${fmtMs(m.cpuIncPush)}`,
      `${fmtMs(m.cpuTarCzf)} (tar -czf)`,
      '',
    ],
    [
      'client CPU (user+sys), pull archive / packs / incr.',
      `${fmtMs(m.cpuPullArchive)} / ${fmtMs(m.cpuPullPacks)} / ${fmtMs(m.cpuIncPull)}`,
      `${fmtMs(m.cpuTarXzfLocal)} (tar -x, local)`,
      '',
    ],
    ['peak RSS, push client', fmtRss(m.rssPush), `${fmtRss(m.rssTarCzf)} (tar -czf)`, ''],
    [
      'peak RSS, pull client (archive / packs)',
      `${fmtRss(m.rssPullArchive)} / ${fmtRss(m.rssPullPacks)}`,
      `${fmtRss(m.rssTarXzf)} (tar -xzf)`,
      '',
    ],
    ['peak RSS, server (API + worker)', fmtRss(m.rssServer), '—', ''],
    [
      `stored after ${1 + i.length / Math.max(1, c.length)} versions (data dir)`,
      fmtBytes(m.troveStored),
      fmtBytes(m.baseStored),
      `${fmtRatio(ratio(m.baseStored, m.troveStored))} less`,
    ],
  ];
  const cpu = cpus();
  const machine: Machine = savedMachine ?? {
    cpu: cpu[0]?.model ?? 'unknown',
    cores: cpu.length,
    ramGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    // Other work on the machine skews every number; the load average makes it visible.
    loadavgAtEnd: loadavg().map((x) => Number(x.toFixed(2))),
  };
  const yes = (b: boolean): string => (b ? '**met**' : '**NOT met**');
  const lines = [
    `Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.ramGiB} GiB RAM, node ${machine.node}, ${machine.platform}, load average at end ${machine.loadavgAtEnd.join(' / ')}`,
    `Workload: ${fmtBytes(m.treeBytes)} tree, ${config.steps} edit steps of ~1%, ${config.runs} runs, medians; archive ${fmtBytes(m.archiveBytes)}`,
    '',
    '| metric | trove | baseline (tar.gz, 1 PUT / 1 GET) | trove vs baseline |',
    '|---|---|---|---|',
    ...rows.map((r) => `| ${r.join(' | ')} |`),
    '',
    `CLI-reported durations (wall time minus node start-up/exit): cold push ${fmtMs(m.coldPushReportedMs)}, incremental push ${fmtMs(m.incPushReportedMs)} (${fmtCount(m.incFilesHashed)} files re-hashed), pull via archive ${fmtMs(m.pullArchiveReportedMs)}, via packs ${fmtMs(m.pullPacksReportedMs)}, incremental pull ${fmtMs(m.incPullReportedMs)}.`,
    '',
    `Target — incremental push of a 1% change sends ≥ 20× fewer bytes than the baseline: ${fmtRatio(incBytesRatio)} → ${yes(targets.incrementalPushBytes20x.met)}`,
    `Target — cold pull via archive ≥ 80% of the speed of \`tar -x\` on the same archive from local disk (median over versions of tar time ÷ pull time): ${pullSpeed === null ? 'n/a' : `${Math.round(pullSpeed * 100)}%`} → ${yes(targets.archivePull80pctOfTar.met)}`,
  ];
  return { machine, config, medians: m, targets, markdown: lines.join('\n') };
}
