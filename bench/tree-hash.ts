import { createHash } from 'node:crypto';
import { closeSync, lstatSync, openSync, readdirSync, readlinkSync, readSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A tree digest independent of trove's own code, so a restore is checked by
 * something that cannot share its bugs: every entry's path, type, executable
 * bit and content (sha256) or symlink target. Only what trove promises to
 * keep (no mtimes, owners or full permission bits).
 */

/** Digest and entry count of the tree under `root`. */
export interface TreeHash {
  digest: string;
  entries: number;
  bytes: number;
}

const buf = Buffer.alloc(1024 * 1024);

function fileDigest(path: string): string {
  const h = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}

/** Hashes the tree under `root` (the root itself is not an entry). */
export function treeHash(root: string): TreeHash {
  const top = createHash('sha256');
  let entries = 0;
  let bytes = 0;
  const walk = (rel: string): void => {
    const names = readdirSync(rel === '' ? root : join(root, rel)).sort();
    for (const name of names) {
      const p = rel === '' ? name : `${rel}/${name}`;
      const abs = join(root, p);
      const st = lstatSync(abs);
      entries++;
      if (st.isSymbolicLink()) {
        top.update(`L ${p} -> ${readlinkSync(abs)}\n`);
      } else if (st.isDirectory()) {
        top.update(`D ${p}\n`);
        walk(p);
      } else if (st.isFile()) {
        const x = (st.mode & 0o100) !== 0 ? 'x' : '-';
        top.update(`F ${p} ${x} ${st.size} ${fileDigest(abs)}\n`);
        bytes += st.size;
      } else {
        top.update(`? ${p}\n`);
      }
    }
  };
  walk('');
  return { digest: top.digest('hex'), entries, bytes };
}
