import { closeSync, writeSync } from 'node:fs';
import type { ManifestEntry } from '../../core/types.js';
import { TroveError } from '../../errors.js';
import { ChunkCheck } from './chunk-check.js';
import { type SafeTree, unsafe } from './safe-tree.js';

/** One tar member as the sink needs it (mapped from the core TarReader's header). */
export interface TarMember {
  /** Member name without a trailing '/'. */
  path: string;
  /** Member type; anything other than file, dir or symlink is refused. */
  type: string;
  /** Data size in bytes (files). */
  size: number;
  /** Permission bits. */
  mode: number;
  /** Link target (symlinks). */
  linkTarget: string;
}

/**
 * Writes the members of an archive into a SafeTree and proves, as they
 * stream, that the tree is exactly the manifest: same paths and types, same
 * exec bits and symlink targets, every file's bytes hashing to its chunk
 * list, nothing missing and nothing extra. The archive is only trusted
 * through this check (the manifest's id is the version id).
 */
export class ArchiveSink {
  /** Files written so far. */
  files = 0;
  /** File bytes written so far. */
  size = 0;
  private readonly tree: SafeTree;
  private readonly expected: Map<string, ManifestEntry>;
  private readonly total: number;
  private fd: number | null = null;
  private check: ChunkCheck | null = null;

  /** Writes into `tree`; `entries` is the verified manifest of the version. */
  constructor(tree: SafeTree, entries: readonly ManifestEntry[]) {
    this.tree = tree;
    this.expected = new Map(entries.map((e) => [e.path, e]));
    this.total = this.expected.size;
  }

  /** Starts a member: creates it (path policy first), then matches it against the manifest. */
  entry(m: TarMember): void {
    if (this.fd !== null) throw mismatch(m.path, 'member started before the previous one ended');
    if (m.type !== 'file' && m.type !== 'dir' && m.type !== 'symlink')
      throw unsafe(m.path, `tar member of type ${m.type} is not allowed`);
    const want = this.expected.get(m.path);
    if (m.type === 'dir') {
      this.tree.dir(m.path);
    } else if (m.type === 'symlink') {
      this.tree.symlink(m.path, m.linkTarget);
    } else {
      // Created before the manifest check so that path policy errors take precedence.
      this.fd = this.tree.openFile(m.path, (m.mode & 0o100) !== 0);
    }
    if (want === undefined) throw mismatch(m.path, 'not in the manifest (or listed twice)');
    this.expected.delete(m.path);
    if (want.type !== m.type)
      throw mismatch(m.path, `is a ${m.type}, the manifest says ${want.type}`);
    if (want.type === 'symlink' && want.target !== m.linkTarget)
      throw mismatch(m.path, 'symlink target differs from the manifest');
    if (want.type === 'file') {
      if (want.executable !== ((m.mode & 0o100) !== 0))
        throw mismatch(m.path, 'executable bit differs from the manifest');
      if (want.size !== m.size)
        throw mismatch(m.path, `has ${m.size} bytes, the manifest says ${want.size}`);
      this.check = new ChunkCheck(m.path, want.chunks);
      this.files++;
    }
  }

  /** Data of the current file member. */
  data(bytes: Uint8Array): void {
    if (this.fd === null || this.check === null) throw mismatch('', 'data outside a file member');
    this.check.push(bytes);
    let at = 0;
    while (at < bytes.length) at += writeSync(this.fd, bytes, at, bytes.length - at);
    this.size += bytes.length;
  }

  /** Ends the current member. */
  entryEnd(): void {
    if (this.check !== null) this.check.end();
    this.check = null;
    this.closeFile();
  }

  /** Ends the archive: everything in the manifest must have been seen, nothing invented. */
  finish(): void {
    this.closeFile();
    const missing = this.expected.keys().next();
    if (!missing.done)
      throw mismatch(
        missing.value,
        `missing from the archive (${this.expected.size} of ${this.total} entries)`,
      );
    const unlisted = this.tree.unlistedDirs.values().next();
    if (!unlisted.done) throw mismatch(unlisted.value, 'directory not in the archive');
  }

  /** Releases the open file, if any (on failure). */
  closeFile(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

function mismatch(path: string, why: string): TroveError {
  return new TroveError(
    'digest_mismatch',
    `archive does not match the manifest: ${JSON.stringify(path)} ${why}`,
    {
      path,
    },
  );
}
