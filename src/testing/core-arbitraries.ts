import fc from 'fast-check';
import { sha256Hex } from '../core/digest.js';
import type { ManifestEntry } from '../core/types.js';
import { TroveError } from '../errors.js';

/**
 * Runs a decoder on hostile input: it may succeed or throw a TroveError, but
 * any other exception is a bug. Returns whether it succeeded.
 */
export function succeedsOrTroveError(run: () => void): boolean {
  try {
    run();
    return true;
  } catch (err) {
    if (err instanceof TroveError) return false;
    throw err;
  }
}

/** Flips, inserts or deletes a few bytes of a valid input, deterministically from the seed. */
export function mutate(input: Buffer, seed: number): Buffer {
  let s = seed >>> 0 || 1;
  const rnd = (n: number): number => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) % Math.max(1, n);
  };
  let out = Buffer.from(input);
  const edits = 1 + rnd(3);
  for (let i = 0; i < edits; i++) {
    const at = rnd(out.length);
    const op = rnd(3);
    if (op === 0 && out.length > 0) out[at] = rnd(256);
    else if (op === 1)
      out = Buffer.concat([out.subarray(0, at), Buffer.of(rnd(256)), out.subarray(at)]);
    else out = Buffer.concat([out.subarray(0, at), out.subarray(at + 1)]);
  }
  return out;
}

/** A manifest tree of arbitrary shape: files with chunks, dirs and symlinks, parents always listed. */
export const treeArb: fc.Arbitrary<ManifestEntry[]> = fc
  .uniqueArray(
    fc.array(fc.constantFrom('a', 'b', 'é', '😀', '\uffff', 'x y', 'z\\'), {
      minLength: 1,
      maxLength: 3,
    }),
    { maxLength: 12, selector: (segs) => segs.join('/') },
  )
  .chain((paths) =>
    fc.tuple(
      fc.constant(paths),
      fc.array(fc.nat(3), { minLength: paths.length, maxLength: paths.length }),
    ),
  )
  .map(([paths, kinds]) => {
    const byPath = new Map<string, ManifestEntry>();
    paths.forEach((segs, i) => {
      for (let d = 1; d < segs.length; d++) {
        const p = segs.slice(0, d).join('/');
        byPath.set(p, { path: p, type: 'dir' });
      }
      const p = segs.join('/');
      if (byPath.has(p)) return;
      const kind = kinds[i] ?? 0;
      if (kind === 0) byPath.set(p, { path: p, type: 'dir' });
      else if (kind === 1) byPath.set(p, { path: p, type: 'symlink', target: `../t${i}` });
      else {
        const chunks = Array.from({ length: kind - 1 }, (_, j) => ({
          digest: sha256Hex(Buffer.from(`${p}/${j}`)),
          size: 100 + j,
        }));
        const size = chunks.reduce((n, c) => n + c.size, 0);
        byPath.set(p, { path: p, type: 'file', executable: i % 2 === 0, size, chunks });
      }
    });
    // A path that is both a dir (as a parent) and a leaf ends up a dir, so the tree stays valid.
    return [...byPath.values()];
  });
