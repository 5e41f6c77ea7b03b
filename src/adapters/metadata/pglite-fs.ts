import { chmodSync, fsyncSync, mkdirSync, statSync } from 'node:fs';
import { PGlite, type PGliteOptions } from '@electric-sql/pglite';
import { NodeFS } from '@electric-sql/pglite/nodefs';

type InitResult = Awaited<ReturnType<NodeFS['init']>>;
type ModuleOptions = Parameters<NodeFS['init']>[1];

/** Permission bits PGlite's files may never carry: nothing for group or others. */
const NOT_PRIVATE = 0o077;

type NodeOps = Record<string, (...args: unknown[]) => unknown>;

/**
 * PGlite's NodeFS (the emscripten NODEFS) maps PostgreSQL's file calls onto
 * Node's synchronous fs: a new file is `writeFileSync(path, '', { mode })`, a
 * directory `mkdirSync(path, mode)`, with the mode PostgreSQL asked the
 * WebAssembly filesystem for, which is 0666/0777 there (emscripten has no
 * umask). Only the process umask then stood between the database (WAL
 * included) and every local user. This filesystem:
 *
 * - masks group and other bits out of every mode PGlite creates or chmods
 *   (`mknod`, `setattr`), so the files are 0600 and directories 0700 whatever
 *   the umask;
 * - when `durable`, adds the `fsync` stream operation the NODEFS lacks (a
 *   real fsync(2) on the host file descriptor, directories included), so that
 *   with fsync=on and wal_sync_method=fsync a commit returns only once its WAL
 *   is on stable storage, exactly as on a regular PostgreSQL server.
 */
export class TroveNodeFS extends NodeFS {
  private readonly durable: boolean;

  constructor(dataDir: string, options: { durable: boolean }) {
    // NodeFS would create a missing root 0777 (minus umask). An existing one an
    // older trove left open is closed: with it 0700, the files inside (whatever
    // their modes) are out of other users' reach.
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const mode = statSync(dataDir).mode & 0o777;
    if ((mode & NOT_PRIVATE) !== 0) chmodSync(dataDir, mode & 0o700);
    super(dataDir);
    this.durable = options.durable;
  }

  override async init(pg: PGlite, options: ModuleOptions): Promise<InitResult> {
    const result = await super.init(pg, options);
    const opts = result.emscriptenOpts;
    const durable = this.durable;
    opts.preRun = [
      ...(opts.preRun ?? []),
      (mod) => {
        const nodefs = mod.NODEFS as unknown as { node_ops: NodeOps; stream_ops: NodeOps };
        privateModes(nodefs.node_ops, nodefs.stream_ops);
        if (durable) {
          nodefs.stream_ops.fsync = (stream: unknown) => {
            const nfd = (stream as { nfd?: number }).nfd;
            if (nfd !== undefined) fsyncSync(nfd);
            return 0;
          };
        }
      },
    ];
    return result;
  }
}

/** Wraps the NODEFS operations that pass a mode to the host so it never grants group/other bits. */
function privateModes(nodeOps: NodeOps, streamOps: NodeOps): void {
  const mknod = nodeOps.mknod;
  const setattr = nodeOps.setattr;
  const streamSetattr = streamOps.setattr;
  if (!mknod || !setattr || !streamSetattr) {
    throw new Error('PGlite NODEFS has no mknod/setattr: cannot keep the database private');
  }
  nodeOps.mknod = (parent, name, mode, dev) =>
    mknod(parent, name, (mode as number) & ~NOT_PRIVATE, dev);
  const masked = (attr: unknown): unknown => {
    const a = attr as { mode?: number };
    return a.mode === undefined ? attr : { ...a, mode: a.mode & ~NOT_PRIVATE };
  };
  nodeOps.setattr = (node, attr) => setattr(node, masked(attr));
  streamOps.setattr = (stream, attr) => streamSetattr(stream, masked(attr));
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
 * PGlite options for a data directory, private (files 0600, directories 0700)
 * either way: durable (fsync on, the default) or PGlite's defaults (fsync
 * off, writes still reach the OS at every commit).
 */
export function pgliteDiskOptions(dataDir: string, durable: boolean): PGliteOptions {
  const fs = new TroveNodeFS(dataDir, { durable });
  if (!durable) return { fs };
  return { fs, startParams: durableStartParams(PGlite.defaultStartParams) };
}
