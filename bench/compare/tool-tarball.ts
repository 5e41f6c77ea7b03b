import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { type BaselineResult, baselinePull, baselinePush, localExtract } from '../baseline.js';
import { type ServerHandle, startBlobServer } from '../servers.js';
import { dirBytes, type OpSample, type StoredBytes, type Tool } from './tool.js';

/**
 * The one-tar.gz-per-version baseline of bench/baseline.ts: `tar -czf` of
 * the whole tree and one PUT per version, one GET piped into `tar -xzf` to
 * restore. It has no incremental restore: moving to the next version is a
 * full download into a fresh directory swapped in for the old one.
 */

const op = (r: BaselineResult): OpSample => ({
  ms: r.ms,
  cpuMs: r.cpuMs,
  rssKiB: r.rssKiB,
  bytes: r.bytes,
  requests: r.requests,
});

export class TarballTool implements Tool {
  readonly name = 'tarball';

  private constructor(
    private readonly server: ServerHandle,
    private readonly base: string,
  ) {}

  static async start(base: string): Promise<TarballTool> {
    return new TarballTool(await startBlobServer(join(base, 'tarball-store')), base);
  }

  private archive(v: number): string {
    return join(this.base, `tarball-v${v}.tar.gz`);
  }

  async push(ws: string, v: number): Promise<OpSample> {
    return op(await baselinePush(ws, this.archive(v), `${this.server.url}/v${v}.tar.gz`));
  }

  async restore(v: number, dest: string): Promise<OpSample> {
    mkdirSync(dest, { recursive: true });
    return op(await baselinePull(`${this.server.url}/v${v}.tar.gz`, dest));
  }

  /** `tar -xzf` of the archive from local disk: the floor any networked restore is held to. */
  async restoreLocal(v: number, dest: string): Promise<OpSample> {
    mkdirSync(dest, { recursive: true });
    return op(await localExtract(this.archive(v), dest));
  }

  async update(v: number, dest: string): Promise<OpSample> {
    const start = performance.now();
    const next = `${dest}.next`;
    rmSync(next, { recursive: true, force: true });
    mkdirSync(next);
    const r = await baselinePull(`${this.server.url}/v${v}.tar.gz`, next);
    rmSync(dest, { recursive: true, force: true });
    renameSync(next, dest);
    return { ...op(r), ms: performance.now() - start };
  }

  stored(): StoredBytes {
    return { total: dirBytes(join(this.base, 'tarball-store')) };
  }

  async close(): Promise<Record<string, number | null>> {
    await this.server.stop();
    return {};
  }
}
