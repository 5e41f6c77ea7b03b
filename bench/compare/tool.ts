import { type Dirent, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Measured } from '../proc.js';
import type { ToolName } from './env.js';

/**
 * What every compared tool implements, and the helpers they share. Each
 * operation runs the tool's own processes; the bench times them from spawn
 * to exit and reads peak RSS and CPU the way bench/proc.ts does.
 */

/** One measured operation of one tool. */
export interface OpSample {
  ms: number;
  cpuMs: number | null;
  rssKiB: number | null;
  /** Bytes sent (push) or received (restore); repository growth where the tool reports nothing. */
  bytes: number | null;
  /** Requests made, where the tool talks HTTP (trove, the tar.gz baseline). */
  requests: number | null;
}

/** Where a tool's stored bytes go (trove splits packs from archives). */
export type StoredBytes = { total: number } & Record<string, number>;

export interface Tool {
  readonly name: ToolName;
  /** Stores the tree in `ws` as version `v` (0-based, in order). */
  push(ws: string, v: number): Promise<OpSample & { materializeMs?: number }>;
  /** Restores version `v` into `dest`, which does not exist yet. */
  restore(v: number, dest: string): Promise<OpSample>;
  /** Moves `dest`, which holds version v-1 as this tool restored it, to version `v`. */
  update(v: number, dest: string): Promise<OpSample>;
  /** Bytes the tool's store holds now. */
  stored(): StoredBytes;
  /** Housekeeping a user would run before measuring size (git gc --aggressive). */
  compact?(): Promise<OpSample>;
  /** Path inside a restored tree that belongs to the tool (git's .git), excluded from verification. */
  readonly metaDir?: string;
  /** Empty directories are not kept by this tool (git): verification adds them back first. */
  readonly dropsEmptyDirs?: boolean;
  /** Restoring over an older tree leaves files the new version deleted (restic 0.14, borg). */
  readonly keepsDeletedFiles?: boolean;
  /** Restore from a local copy of what would be downloaded (the tar.gz baseline's `tar -xzf`). */
  restoreLocal?(v: number, dest: string): Promise<OpSample>;
  /** Extra measurements taken at the end (server peak RSS and CPU). */
  close(): Promise<Record<string, number | null>>;
}

/** Total size of regular files under `dir` (0 when it does not exist). */
export function dirBytes(dir: string): number {
  let total = 0;
  let list: Dirent[];
  try {
    list = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of list) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += dirBytes(p);
    else if (e.isFile()) total += statSync(p).size;
  }
  return total;
}

/** Combines processes run back to back as one operation: times and CPU add, RSS is the peak. */
export function combine(parts: Measured[], bytes: number | null): OpSample {
  let cpu: number | null = 0;
  let rss: number | null = null;
  for (const p of parts) {
    cpu = cpu === null || p.cpuMs === null ? null : cpu + p.cpuMs;
    if (p.rssKiB !== null) rss = Math.max(rss ?? 0, p.rssKiB);
  }
  return {
    ms: parts.reduce((s, p) => s + p.ms, 0),
    cpuMs: cpu,
    rssKiB: rss,
    bytes,
    requests: null,
  };
}

/** User + system CPU of a live process in ms (Linux /proc), for long-lived servers. */
export function processCpuMs(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): utime and stime are 14th and 15th.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(rest[11]) + Number(rest[12])) * 1000) / 100;
  } catch {
    return null;
  }
}
