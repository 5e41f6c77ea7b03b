import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TroveError } from '../errors.js';
import { treeArb } from '../testing/core-arbitraries.js';
import { sha256Hex } from './digest.js';
import { encodeManifest } from './manifest.js';
import { encodeManifestDelta, removalLine } from './manifest-delta.js';
import { mergeManifestDelta } from './manifest-delta-merge.js';
import { comparePaths } from './paths.js';
import type { ManifestEntry } from './types.js';

const sorted = (t: readonly ManifestEntry[]): ManifestEntry[] =>
  [...t].sort((a, b) => comparePaths(a.path, b.path));

async function* slices(bytes: Buffer, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

/** Runs the merge over sliced inputs and returns its output. */
async function merge(base: Buffer, delta: Buffer, slice = 7): Promise<Buffer> {
  const parts: Buffer[] = [];
  const gen = mergeManifestDelta({
    delta: slices(delta, slice),
    openBase: async (id) => {
      expect(id).toBe(sha256Hex(base));
      return slices(base, slice + 3);
    },
  });
  for await (const p of gen) parts.push(p);
  return Buffer.concat(parts);
}

function deltaOf(base: readonly ManifestEntry[], next: readonly ManifestEntry[]): Buffer {
  const b = encodeManifest(base);
  return encodeManifestDelta(b.id, sorted(base), sorted(next), encodeManifest(next).header);
}

/** Random edits of a tree: drop leaves, flip exec bits, retarget links, graft another tree. */
const editedArb = fc
  .tuple(treeArb, treeArb, fc.array(fc.nat(3), { maxLength: 16 }))
  .map(([base, graft, ops]) => {
    const parents = new Set(base.map((e) => e.path.split('/').slice(0, -1).join('/')));
    const next = new Map<string, ManifestEntry>();
    base.forEach((e, i) => {
      const op = ops[i % Math.max(1, ops.length)] ?? 0;
      if (op === 1 && !parents.has(e.path)) return;
      if (op === 2 && e.type === 'file') next.set(e.path, { ...e, executable: !e.executable });
      else if (op === 3 && e.type === 'symlink') next.set(e.path, { ...e, target: `${e.target}x` });
      else next.set(e.path, e);
    });
    for (const e of graft) if (!next.has(e.path)) next.set(`${e.path}`, e);
    return { base, next: [...next.values()] };
  })
  .filter(({ next }) => {
    try {
      encodeManifest(next);
      return true;
    } catch {
      return false;
    }
  });

describe('mergeManifestDelta', () => {
  it('merge(base, delta(base, next)) is exactly the manifest of next (property)', async () => {
    await fc.assert(
      fc.asyncProperty(editedArb, fc.integer({ min: 1, max: 64 }), async ({ base, next }, s) => {
        const want = encodeManifest(next);
        const got = await merge(encodeManifest(base).bytes, deltaOf(base, next), s);
        expect(got.toString()).toBe(want.bytes.toString());
        expect(sha256Hex(got)).toBe(want.id);
      }),
    );
  });

  it('works between unrelated trees too', async () => {
    await fc.assert(
      fc.asyncProperty(treeArb, treeArb, async (a, b) => {
        const got = await merge(encodeManifest(a).bytes, deltaOf(a, b));
        expect(got.equals(encodeManifest(b).bytes)).toBe(true);
      }),
    );
  });

  it('streams a large manifest in pieces', async () => {
    const tree: ManifestEntry[] = [{ path: 'd', type: 'dir' }];
    for (let i = 0; i < 20_000; i++) tree.push({ path: `d/f${i}`, type: 'symlink', target: 't' });
    const next = tree.map((e, i) => (i % 100 === 7 ? { ...e, target: 'u' } : e));
    const pieces: number[] = [];
    const base = encodeManifest(tree).bytes;
    for await (const p of mergeManifestDelta({
      delta: slices(deltaOf(tree, next), 4096),
      openBase: async () => slices(base, 65536),
    }))
      pieces.push(p.length);
    expect(pieces.length).toBeGreaterThan(1);
    expect(Math.max(...pieces)).toBeLessThan(300 * 1024);
  });

  it('rejects deltas that do not fit the base', async () => {
    const base: ManifestEntry[] = [{ path: 'a', type: 'dir' }];
    const b = encodeManifest(base);
    const header = (changes: number, entries: number): string =>
      `${encodeManifestDelta(b.id, base, base, encodeManifest(base).header)
        .toString()
        .replace('"changes":0', `"changes":${changes}`)
        .replace('"entries":1', `"entries":${entries}`)}`;
    const cases: [string, string][] = [
      [`${header(1, 0)}${removalLine('b')}\n`, 'which the base lacks'],
      [`${header(1, 1)}{"p":"a","t":"d"}\n`, 'unchanged entry'],
      [header(0, 2), 'announces 2 entries; merge gives 1'],
      ['', 'no header'],
    ];
    for (const [text, fragment] of cases) {
      const err = await merge(b.bytes, Buffer.from(text)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TroveError);
      expect((err as TroveError).code).toBe('invalid_manifest');
      expect((err as TroveError).message).toContain(fragment);
    }
  });

  it('passes on a refusal of the base', async () => {
    const base: ManifestEntry[] = [{ path: 'a', type: 'dir' }];
    const gen = mergeManifestDelta({
      delta: slices(deltaOf(base, []), 5),
      openBase: async () => {
        throw new TroveError('invalid_manifest', 'unknown base');
      },
    });
    await expect(gen.next()).rejects.toThrow('unknown base');
  });
});
