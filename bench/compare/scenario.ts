import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fmtBytes, fmtMs } from '../stats.js';
import { treeHash } from '../tree-hash.js';
import type { CompareEnv, ToolName } from './env.js';
import type { OpName, Sample, ToolTotals } from './results.js';
import type { OpSample, Tool } from './tool.js';
import { BorgTool } from './tool-borg.js';
import { GitTool } from './tool-git.js';
import { ResticTool } from './tool-restic.js';
import { TarballTool } from './tool-tarball.js';
import { TroveTool } from './tool-trove.js';
import { verifyRestore } from './verify.js';
import type { Workload } from './workloads.js';

/**
 * Writes back dirty pages before a timed operation, so a tool is not billed
 * for the previous tool's writeback (restores of 300 MB trees one after the
 * other made whoever came later up to 2.5x slower).
 */
function settleDisk(): void {
  execFileSync('sync');
}

/**
 * One run of one workload: every version pushed by every tool, then each
 * tool's standing copy moved to that version (incremental restore); after
 * the last version, a cold restore of it and the final stored size. Tools
 * take turns in an order rotated per version and per run, so none always
 * runs on the warmest page cache. Every restore is verified.
 */

async function startTool(
  name: ToolName,
  env: CompareEnv,
  base: string,
  bin: string,
): Promise<Tool> {
  switch (name) {
    case 'trove':
      return TroveTool.start(bin, base);
    case 'tarball':
      return TarballTool.start(base);
    case 'restic':
      return ResticTool.start(base);
    case 'borg':
      return BorgTool.start(base);
    case 'git':
      return GitTool.start(base);
  }
  throw new Error(`unknown tool ${name satisfies never} (${env.runs})`);
}

const rotate = <T>(xs: readonly T[], by: number): T[] =>
  xs.map((_, i) => xs[(i + by) % xs.length]!);

export async function runScenario(
  env: CompareEnv,
  w: Workload,
  run: number,
  root: string,
  bin: string,
  say: (m: string) => void,
): Promise<{ samples: Sample[]; totals: ToolTotals[] }> {
  const base = join(root, `run-${run}`, w.id);
  rmSync(base, { recursive: true, force: true });
  mkdirSync(base, { recursive: true });
  const ws = join(base, 'ws');
  const samples: Sample[] = [];
  const tools: Tool[] = [];
  const record = (t: Tool, op: OpName, v: number, s: OpSample, extra: Partial<Sample> = {}) =>
    samples.push({
      workload: w.id,
      run,
      tool: t.name,
      op,
      version: v,
      kind: w.kinds[v]!,
      ...s,
      ...extra,
    });
  try {
    for (const name of env.tools) tools.push(await startTool(name, env, base, bin));
    let lastHash = '';
    const inc = (t: Tool) => join(base, `standing-${t.name}`);
    for (let v = 0; v < w.kinds.length; v++) {
      w.prepare(ws, v);
      const src = treeHash(ws);
      lastHash = src.digest;
      const order = rotate(tools, run + v);
      const line: string[] = [];
      for (const t of order) {
        settleDisk();
        const p = await t.push(ws, v);
        record(t, 'push', v, p, {
          stored: t.stored().total,
          treeBytes: src.bytes,
          ...(p.materializeMs !== undefined ? { materializeMs: p.materializeMs } : {}),
        });
        line.push(`${t.name} push ${fmtMs(p.ms)} ${fmtBytes(p.bytes)}`);
      }
      for (const t of order) {
        // The standing copy starts as a restore of the first version, then follows every push.
        settleDisk();
        const s = v === 0 ? await t.restore(0, inc(t)) : await t.update(v, inc(t));
        verifyRestore(t, `restore of v${v}`, inc(t), ws, src.digest);
        if (v > 0) record(t, 'update', v, s);
        if (v > 0) line.push(`${t.name} update ${fmtMs(s.ms)}`);
      }
      say(`${w.id} run ${run} v${v} (${w.kinds[v]}, ${fmtBytes(src.bytes)}): ${line.join(', ')}`);
    }
    const last = w.kinds.length - 1;
    // Housekeeping first (git gc --aggressive), so the cold restore clones a packed repository
    // as a git user's would be; sizes are taken before and after it.
    const before = new Map(tools.map((t) => [t.name, t.stored().total]));
    for (const t of tools) {
      const c = t.compact === undefined ? undefined : await t.compact();
      if (c !== undefined) record(t, 'compact', last, c);
    }
    for (const t of rotate(tools, run)) {
      const dest = join(base, `cold-${t.name}`);
      settleDisk();
      const s = await t.restore(last, dest);
      verifyRestore(t, 'cold restore', dest, ws, lastHash);
      record(t, 'restore', last, s);
      rmSync(dest, { recursive: true, force: true });
      if (t.restoreLocal !== undefined) {
        settleDisk();
        const l = await t.restoreLocal(last, dest);
        verifyRestore(t, 'local restore', dest, ws, lastHash);
        record(t, 'restoreLocal', last, l);
        rmSync(dest, { recursive: true, force: true });
      }
    }
    const totals: ToolTotals[] = [];
    for (const t of tools) {
      const stored = t.stored();
      const storedBeforeCompact = before.get(t.name) ?? stored.total;
      totals.push({
        workload: w.id,
        run,
        tool: t.name,
        storedBeforeCompact,
        stored,
        extra: await t.close(),
      });
    }
    say(
      `${w.id} run ${run}: stored ${totals.map((x) => `${x.tool} ${fmtBytes(x.stored.total)}`).join(', ')}`,
    );
    return { samples, totals };
  } catch (e) {
    for (const t of tools)
      if (t instanceof TroveTool) say(`trove server output:\n${t.serverLog()}`);
    throw e;
  } finally {
    for (const t of tools) await t.close().catch(() => {});
    if (!env.keep) rmSync(base, { recursive: true, force: true });
  }
}
