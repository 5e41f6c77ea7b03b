import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { type ServerHandle, startTrove } from '../servers.js';
import { TroveCli, type TroveRun } from '../trove.js';
import { dirBytes, type OpSample, processCpuMs, type StoredBytes, type Tool } from './tool.js';

/**
 * trove on its embedded default: `trove serve` with a fresh data dir
 * (PGlite + local blob store + in-process worker), driven through the CLI
 * exactly as bench/run.ts does. A push counts as done when the commit
 * returns; the wait for the archive is recorded separately as materialize
 * time, and every restore starts only once the archive is ready.
 */

const STORAGE = 'compare';
const FORMAT = 'tar.zst';

function op<T extends { bytesUploaded?: number; bytesDownloaded?: number; requests: number }>(
  r: TroveRun<T>,
): OpSample {
  return {
    ms: r.ms,
    cpuMs: r.cpuMs,
    rssKiB: r.rssKiB,
    bytes: r.out.bytesUploaded ?? r.out.bytesDownloaded ?? null,
    requests: r.out.requests,
  };
}

export class TroveTool implements Tool {
  readonly name = 'trove';
  private readonly ids: string[] = [];
  private cpuBefore: number | null = null;

  private constructor(
    private readonly server: ServerHandle,
    private readonly cli: TroveCli,
    private readonly data: string,
  ) {}

  static async start(bin: string, base: string): Promise<TroveTool> {
    const data = join(base, 'trove-data');
    // Grace 0: superseded archives are deleted as soon as the next one is ready, so the
    // stored bytes show the steady state (head archive + packs + manifests) rather than
    // the default grace window (the URL TTL) in which evicted archives still exist.
    const server = await startTrove(bin, data, {
      TROVE_ARCHIVE_FORMATS: FORMAT,
      TROVE_ARCHIVE_GRACE_SECONDS: '0',
    });
    const tool = new TroveTool(
      server,
      new TroveCli(bin, server.url, join(base, 'trove-cache')),
      data,
    );
    tool.cpuBefore = processCpuMs(server.child.pid);
    return tool;
  }

  async push(ws: string, v: number): Promise<OpSample & { materializeMs: number }> {
    const p = await this.cli.push(ws, STORAGE, `v${v}`);
    this.ids[v] = p.out.version;
    const materializeMs = await this.cli.waitArchive(STORAGE, p.out.version, FORMAT);
    return { ...op(p), materializeMs };
  }

  private id(v: number): string {
    const id = this.ids[v];
    if (id === undefined) throw new Error(`trove: version ${v} was not pushed`);
    return id;
  }

  async restore(v: number, dest: string): Promise<OpSample> {
    return op(await this.cli.pull(`${STORAGE}@${this.id(v)}`, dest, ['--format', FORMAT]));
  }

  async update(v: number, dest: string): Promise<OpSample> {
    return op(await this.cli.pull(`${STORAGE}@${this.id(v)}`, dest));
  }

  stored(): StoredBytes {
    const t = join(this.data, 'blobs', 't');
    let packs = 0;
    let archives = 0;
    let manifests = 0;
    // One directory per tenant; the embedded default has one.
    for (const tenant of safeList(t)) {
      packs += dirBytes(join(t, tenant, 'packs'));
      archives += dirBytes(join(t, tenant, 'archives'));
      manifests += dirBytes(join(t, tenant, 'manifests'));
    }
    const blobs = dirBytes(join(this.data, 'blobs'));
    return { total: blobs, packs, archives, manifests, database: dirBytes(this.data) - blobs };
  }

  async close(): Promise<Record<string, number | null>> {
    const pid = this.server.child.pid;
    const cpu = processCpuMs(pid);
    const out = {
      serverRssKiB: this.server.peakRssKiB(),
      serverCpuMs: cpu === null || this.cpuBefore === null ? null : cpu - this.cpuBefore,
    };
    await this.server.stop();
    return out;
  }

  serverLog(): string {
    return this.server.log();
  }
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
