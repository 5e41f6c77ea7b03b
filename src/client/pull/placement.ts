import { closeSync, constants, openSync, writeSync } from 'node:fs';
import type { Digest, FileEntry } from '../../core/types.js';
import { TroveError } from '../../errors.js';
import type { SafeTree } from './safe-tree.js';

/** Max files kept open while placing chunks (a large file gets many chunks in a row). */
const OPEN_FILES = 64;

/** Writes a chunk at every place the manifest puts it, keeping a few files open. */
export class PlacementWriter {
  /** Digests already written everywhere they belong. */
  readonly done = new Set<Digest>();
  private readonly fds = new Map<number, number>();
  private readonly created: Uint8Array;

  /** Places the chunks of `files` (their `places` and `sizes`) into `tree`. */
  constructor(
    private readonly tree: SafeTree,
    private readonly files: readonly FileEntry[],
    private readonly places: ReadonlyMap<Digest, number[]>,
    private readonly sizes: ReadonlyMap<Digest, number>,
    private readonly onWritten: ((n: number) => void) | undefined,
  ) {
    this.created = new Uint8Array(files.length);
  }

  /** Writes a verified chunk everywhere it belongs (once; later calls are no-ops). */
  place(digest: Digest, raw: Buffer): void {
    if (this.done.has(digest)) return;
    // The bytes were verified against the digest; a manifest giving that digest another size lies.
    if (raw.length !== this.sizes.get(digest))
      throw new TroveError(
        'digest_mismatch',
        `chunk ${digest} is ${raw.length} bytes, the manifest says ${this.sizes.get(digest)}`,
        { digest },
      );
    const list = this.places.get(digest) ?? [];
    for (let i = 0; i < list.length; i += 2) {
      const index = list[i]!;
      const single = this.files[index]!.chunks.length === 1;
      // A single-chunk file is complete after this write: no point caching its fd.
      const fd = single ? this.create(index) : this.fd(index);
      const offset = list[i + 1]!;
      try {
        let at = 0;
        while (at < raw.length) at += writeSync(fd, raw, at, raw.length - at, offset + at);
      } finally {
        if (single) closeSync(fd);
      }
      this.onWritten?.(raw.length);
    }
    this.done.add(digest);
  }

  /** Closes the files still open. */
  close(): void {
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
  }

  private fd(index: number): number {
    const open = this.fds.get(index);
    if (open !== undefined) return open;
    if (this.fds.size >= OPEN_FILES) {
      const [oldest, fd] = this.fds.entries().next().value as [number, number];
      closeSync(fd);
      this.fds.delete(oldest);
    }
    const fd = this.created[index]
      ? openSync(
          this.tree.abs(this.files[index]!.path),
          constants.O_WRONLY | (constants.O_NOFOLLOW ?? 0),
        )
      : this.create(index);
    this.fds.set(index, fd);
    return fd;
  }

  /** Creates a file on its first write (through SafeTree: exclusive, exact mode). */
  private create(index: number): number {
    const f = this.files[index]!;
    const fd = this.tree.openFile(f.path, f.executable);
    this.created[index] = 1;
    return fd;
  }
}
