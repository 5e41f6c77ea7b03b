import { fsyncSync } from 'node:fs';
import { PGlite, type PGliteOptions } from '@electric-sql/pglite';
import { NodeFS } from '@electric-sql/pglite/nodefs';

type InitResult = Awaited<ReturnType<NodeFS['init']>>;
type ModuleOptions = Parameters<NodeFS['init']>[1];

/**
 * PGlite's NodeFS writes straight through to the real data directory with
 * synchronous write(2) calls, but the emscripten NODEFS has no `fsync` stream
 * operation, so PostgreSQL's fsync() is silently a no-op. This filesystem adds
 * it (a real fsync(2) on the host file descriptor, directories included), so
 * that with fsync=on and wal_sync_method=fsync a commit returns only once its
 * WAL is on stable storage, exactly as on a regular PostgreSQL server.
 */
export class DurableNodeFS extends NodeFS {
  override async init(pg: PGlite, options: ModuleOptions): Promise<InitResult> {
    const result = await super.init(pg, options);
    const opts = result.emscriptenOpts;
    opts.preRun = [
      ...(opts.preRun ?? []),
      (mod) => {
        const ops = (mod.NODEFS as unknown as { stream_ops: Record<string, unknown> }).stream_ops;
        ops.fsync = (stream: { nfd?: number }) => {
          if (stream.nfd !== undefined) fsyncSync(stream.nfd);
          return 0;
        };
      },
    ];
    return result;
  }
}

/**
 * Start parameters for a durable on-disk PGlite: PGlite's defaults minus `-F`
 * (fsync off), and WAL flushed with fsync() because emscripten implements
 * fdatasync() as a no-op.
 */
export function durableStartParams(defaults: readonly string[]): string[] {
  return [
    ...defaults.filter((p) => p !== '-F'),
    '-c',
    'fsync=on',
    '-c',
    'synchronous_commit=on',
    '-c',
    'wal_sync_method=fsync',
    '-c',
    'full_page_writes=on',
  ];
}

/**
 * PGlite options for a data directory: durable (DurableNodeFS, fsync on) or
 * PGlite's defaults (fsync off, writes still reach the OS at every commit).
 */
export function pgliteDiskOptions(dataDir: string, durable: boolean): PGliteOptions {
  if (!durable) return { dataDir };
  return {
    fs: new DurableNodeFS(dataDir),
    startParams: durableStartParams(PGlite.defaultStartParams),
  };
}
