import { existsSync, lstatSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { treeHash } from '../tree-hash.js';
import type { Tool } from './tool.js';

/**
 * Checks a restore against the source tree with bench/tree-hash.ts, after
 * undoing only what a tool is documented not to do (outside the timed
 * operation, and said in the report): git keeps no empty directories and
 * puts its .git in the tree; restic 0.14 and borg do not delete on restore.
 */

/** Kinds of every entry under `root`, by relative path. */
function kinds(root: string): Map<string, 'd' | 'f' | 'l'> {
  const out = new Map<string, 'd' | 'f' | 'l'>();
  const walk = (rel: string): void => {
    for (const e of readdirSync(rel === '' ? root : join(root, rel), { withFileTypes: true })) {
      const p = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isSymbolicLink()) out.set(p, 'l');
      else if (e.isDirectory()) {
        out.set(p, 'd');
        walk(p);
      } else out.set(p, 'f');
    }
  };
  walk('');
  return out;
}

/** Removes from `dest` what `source` does not have (deepest first). */
export function pruneExtras(dest: string, source: string, keep?: string): void {
  const want = kinds(source);
  const have = kinds(dest);
  for (const [p, k] of [...have].reverse()) {
    if (keep !== undefined && (p === keep || p.startsWith(`${keep}/`))) continue;
    if (want.get(p) !== k) rmSync(join(dest, p), { recursive: true, force: true });
  }
}

/** Creates in `dest` the empty directories of `source` that are missing. */
function addEmptyDirs(dest: string, source: string): void {
  for (const [p, k] of kinds(source)) {
    if (k === 'd' && !existsSync(join(dest, p))) mkdirSync(join(dest, p), { recursive: true });
  }
}

/** Throws unless `dest` (as restored by `tool`) holds the tree `source` hashed to `expected`. */
export function verifyRestore(
  tool: Tool,
  what: string,
  dest: string,
  source: string,
  expected: string,
): void {
  const meta = tool.metaDir === undefined ? null : join(dest, tool.metaDir);
  const aside = `${dest}.meta-aside`;
  if (meta !== null && existsSync(meta)) renameSync(meta, aside);
  try {
    if (tool.keepsDeletedFiles === true) pruneExtras(dest, source);
    if (tool.dropsEmptyDirs === true) addEmptyDirs(dest, source);
    const got = treeHash(dest).digest;
    if (got !== expected) throw new Error(`${tool.name} ${what}: ${dest} differs from the source`);
  } finally {
    if (meta !== null && existsSync(aside) && !lstatSync(aside).isSymbolicLink()) {
      renameSync(aside, meta);
    }
  }
}
