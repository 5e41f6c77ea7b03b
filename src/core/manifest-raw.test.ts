import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TroveError } from '../errors.js';
import { treeArb } from '../testing/core-arbitraries.js';
import { decodeManifest, encodeManifest } from './manifest.js';
import { entryLine } from './manifest-line.js';
import { linePath, RawManifestLines, rawEntryLines } from './manifest-raw.js';
import type { ManifestEntry } from './types.js';

describe('raw manifest lines', () => {
  it('gives exactly the decoder paths and canonical lines, in any slicing', () => {
    fc.assert(
      fc.property(treeArb, fc.integer({ min: 1, max: 64 }), (tree, slice) => {
        const { bytes } = encodeManifest(tree);
        const decoded = decodeManifest(bytes).entries;
        const reader = new RawManifestLines();
        const raw = [];
        for (let i = 0; i < bytes.length; i += slice)
          raw.push(...reader.push(bytes.subarray(i, i + slice)));
        reader.end();
        expect(raw).toEqual(decoded.map((e) => ({ path: e.path, line: entryLine(e) })));
      }),
    );
  });

  it('decodes escaped paths: quotes, backslashes, control characters, non-ASCII', () => {
    const names = ['a"b', 'c\\d', 'e\nf', 'g\u0001h', 'ü/😀', '\\"', 'x\\'];
    const tree: ManifestEntry[] = names.map((n, i) => ({
      path: n.replace('/', '_'),
      type: 'symlink',
      target: `t${i}`,
    }));
    const lines = rawEntryLines(encodeManifest(tree).bytes);
    expect(lines.map((l) => l.path).sort()).toEqual(tree.map((e) => e.path).sort());
    for (const l of lines) expect(linePath(l.line)).toBe(l.path);
  });

  it('refuses what is not a whole manifest of entry lines', () => {
    const { bytes } = encodeManifest([{ path: 'a', type: 'dir' }]);
    expect(() => rawEntryLines(bytes.subarray(0, -1))).toThrow(TroveError);
    expect(() => rawEntryLines(Buffer.alloc(0))).toThrow(/no header/);
    expect(() => linePath('{"t":"d","p":"a"}')).toThrow(/not a manifest entry line/);
    expect(() => linePath('{"p":"abc')).toThrow(/unterminated/);
  });
});
