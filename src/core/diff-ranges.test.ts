import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { treeArb } from '../testing/core-arbitraries.js';
import { diffManifests } from './diff.js';
import { sha256Hex } from './digest.js';
import { encodeManifest } from './manifest.js';
import { coalesceRanges } from './ranges.js';
import type { ManifestEntry, PackedChunk } from './types.js';

const d = (s: string) => sha256Hex(Buffer.from(s));
const file = (path: string, chunk: string, x = false): ManifestEntry => ({
  path,
  type: 'file',
  executable: x,
  size: chunk.length,
  chunks: [{ digest: d(chunk), size: chunk.length }],
});

describe('diffManifests', () => {
  it('finds added, removed and changed paths', () => {
    const a = [file('a', 'x'), { path: 'b', type: 'dir' } as const, file('c', 'y'), file('e', 'z')];
    const b = [
      file('a', 'x'),
      file('b', 'q'),
      file('c', 'y', true),
      file('d', 'w'),
      file('e', 'z'),
    ];
    expect(diffManifests(a, b)).toEqual({ added: ['d'], removed: [], changed: ['b', 'c'] });
    expect(diffManifests(b, a)).toEqual({ added: [], removed: ['d'], changed: ['b', 'c'] });
    expect(diffManifests([], a)).toEqual({ added: ['a', 'b', 'c', 'e'], removed: [], changed: [] });
  });

  it('matches a map-based diff on random trees (property)', () => {
    fc.assert(
      fc.property(treeArb, treeArb, (ta, tb) => {
        const sa = encodeManifest(ta);
        const sb = encodeManifest(tb);
        const ea = [...ta].sort((x, y) => Buffer.compare(Buffer.from(x.path), Buffer.from(y.path)));
        const eb = [...tb].sort((x, y) => Buffer.compare(Buffer.from(x.path), Buffer.from(y.path)));
        const got = diffManifests(ea, eb);
        const ma = new Map(ea.map((e) => [e.path, JSON.stringify(e)]));
        const mb = new Map(eb.map((e) => [e.path, JSON.stringify(e)]));
        expect(got.added).toEqual(eb.filter((e) => !ma.has(e.path)).map((e) => e.path));
        expect(got.removed).toEqual(ea.filter((e) => !mb.has(e.path)).map((e) => e.path));
        expect(got.changed).toEqual(
          ea.filter((e) => mb.has(e.path) && mb.get(e.path) !== ma.get(e.path)).map((e) => e.path),
        );
        if (sa.id === sb.id) expect(got).toEqual({ added: [], removed: [], changed: [] });
      }),
    );
  });

  it('refuses unsorted input', () => {
    expect(() => diffManifests([file('b', 'x'), file('a', 'y')], [])).toThrow(/not sorted/);
  });
});

const chunk = (offset: number, storedSize: number): PackedChunk => ({
  digest: d(String(offset)),
  offset,
  storedSize,
  rawSize: storedSize,
  codec: 'raw',
});

describe('coalesceRanges', () => {
  it('merges across small gaps, splits on large gaps and size', () => {
    const cs = [chunk(1000, 100), chunk(0, 100), chunk(150, 50), chunk(5000, 10)];
    const r = coalesceRanges(cs, { maxGap: 100, maxRangeBytes: 1000 });
    expect(r.map((x) => [x.start, x.end, x.chunks.length])).toEqual([
      [0, 200, 2],
      [1000, 1100, 1],
      [5000, 5010, 1],
    ]);
    const capped = coalesceRanges([chunk(0, 600), chunk(600, 600)], {
      maxGap: 10,
      maxRangeBytes: 1000,
    });
    expect(capped.length).toBe(2);
    expect(coalesceRanges([chunk(0, 5000)], { maxGap: 0, maxRangeBytes: 1000 })[0]?.end).toBe(5000);
    expect(coalesceRanges([])).toEqual([]);
  });

  it('covers every chunk exactly once within limits (property)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.nat(100), { maxLength: 30 }),
        fc.nat(300),
        fc.integer({ min: 1, max: 3000 }),
        (slots, maxGap, maxRangeBytes) => {
          const cs = slots.map((s) => chunk(s * 100, 1 + (s % 90)));
          const ranges = coalesceRanges(cs, { maxGap, maxRangeBytes });
          expect(ranges.flatMap((r) => r.chunks).length).toBe(cs.length);
          for (const r of ranges) {
            for (const c of r.chunks) {
              expect(c.offset).toBeGreaterThanOrEqual(r.start);
              expect(c.offset + c.storedSize).toBeLessThanOrEqual(r.end);
            }
            if (r.chunks.length > 1) expect(r.end - r.start).toBeLessThanOrEqual(maxRangeBytes);
          }
          for (let i = 1; i < ranges.length; i++)
            expect(ranges[i]!.start).toBeGreaterThan(ranges[i - 1]!.end - 1);
        },
      ),
    );
  });
});
