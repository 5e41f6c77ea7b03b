import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TroveError } from '../errors.js';
import { mutate, succeedsOrTroveError, treeArb } from '../testing/core-arbitraries.js';
import { CHUNKER_ID } from './chunker-params.js';
import { sha256Hex } from './digest.js';
import { decodeManifest, encodeManifest } from './manifest.js';
import {
  compressManifestDelta,
  encodeManifestDelta,
  encodeManifestDeltaLines,
  removalLine,
} from './manifest-delta.js';
import { decodeManifestDelta, ManifestDeltaDecoder } from './manifest-delta-decode.js';
import { entryLine } from './manifest-line.js';
import { rawEntryLines } from './manifest-raw.js';
import { comparePaths } from './paths.js';
import type { ManifestEntry } from './types.js';
import { createZstdDecompressStream } from './zstd-stream.js';

const BASE = sha256Hex(Buffer.from('base'));
const d1 = sha256Hex(Buffer.from('one'));

const sorted = (t: readonly ManifestEntry[]): ManifestEntry[] =>
  [...t].sort((a, b) => comparePaths(a.path, b.path));

function delta(base: readonly ManifestEntry[], next: readonly ManifestEntry[]): Buffer {
  const baseId = encodeManifest(base).id;
  return encodeManifestDelta(baseId, sorted(base), sorted(next), encodeManifest(next).header);
}

function hdr(changes: number, entries = 0, files = 0, size = 0, refs = 0): string {
  return `{"trove":"manifest-delta","v":1,"base":"${BASE}","chunker":"${CHUNKER_ID}","entries":${entries},"files":${files},"size":${size},"chunkRefs":${refs},"changes":${changes}}\n`;
}

function expectInvalid(text: string, fragment: string): void {
  try {
    decodeManifestDelta(Buffer.from(text));
  } catch (err) {
    expect(err).toBeInstanceOf(TroveError);
    expect((err as TroveError).code).toBe('invalid_manifest');
    expect((err as TroveError).message).toContain(fragment);
    return;
  }
  throw new Error(`accepted: ${text}`);
}

describe('encodeManifestDelta', () => {
  it('writes the exact canonical bytes: changed and new entries, removals, sorted by path', () => {
    const base: ManifestEntry[] = [
      { path: 'a', type: 'dir' },
      { path: 'a/old', type: 'symlink', target: 'x' },
      { path: 'b', type: 'file', executable: false, size: 0, chunks: [] },
      { path: 'c', type: 'dir' },
    ];
    const next: ManifestEntry[] = [
      { path: 'a', type: 'dir' },
      {
        path: 'a/new',
        type: 'file',
        executable: false,
        size: 5,
        chunks: [{ digest: d1, size: 5 }],
      },
      { path: 'b', type: 'file', executable: true, size: 0, chunks: [] },
      { path: 'c', type: 'dir' },
    ];
    const baseId = encodeManifest(base).id;
    const text = encodeManifestDelta(baseId, base, next, encodeManifest(next).header).toString();
    expect(text).toBe(
      `{"trove":"manifest-delta","v":1,"base":"${baseId}","chunker":"${CHUNKER_ID}","entries":4,"files":2,"size":5,"chunkRefs":1,"changes":3}\n` +
        `{"p":"a/new","t":"f","x":0,"s":5,"c":[["${d1}",5]]}\n{"p":"a/old","t":"-"}\n{"p":"b","t":"f","x":1,"s":0,"c":[]}\n`,
    );
  });

  it('round-trips through the decoder in any slicing (property)', () => {
    fc.assert(
      fc.property(treeArb, treeArb, fc.array(fc.nat(), { maxLength: 5 }), (a, b, cuts) => {
        const bytes = delta(a, b);
        const d = new ManifestDeltaDecoder();
        const points = [0, ...cuts.map((c) => c % (bytes.length + 1)).sort((x, y) => x - y)];
        points.push(bytes.length);
        const records = [];
        for (let i = 1; i < points.length; i++)
          records.push(...d.push(bytes.subarray(points[i - 1], points[i])));
        d.end();
        const lines = bytes.toString().split('\n').slice(1, -1);
        expect(records.map((r) => r.line)).toEqual(lines);
        const byPath = new Map(sorted(b).map((e) => [e.path, e]));
        for (const r of records) {
          if (r.entry === null) expect(byPath.has(r.path)).toBe(false);
          else expect(r.entry).toEqual(byPath.get(r.path));
        }
        expect(d.header?.entries).toBe(b.length);
      }),
    );
  });

  it('gives the same bytes from stored lines as from entries (property)', () => {
    fc.assert(
      fc.property(treeArb, treeArb, (a, b) => {
        const base = encodeManifest(a);
        const next = encodeManifest(b);
        const fromLines = encodeManifestDeltaLines(
          base.id,
          rawEntryLines(base.bytes),
          rawEntryLines(next.bytes),
          next.header,
        );
        const fromEntries = encodeManifestDelta(
          base.id,
          decodeManifest(base.bytes).entries,
          decodeManifest(next.bytes).entries,
          next.header,
        );
        expect(fromLines.equals(fromEntries)).toBe(true);
      }),
    );
  });

  it('is empty (header only) between identical manifests', () => {
    fc.assert(
      fc.property(treeArb, (t) => {
        expect(decodeManifestDelta(delta(t, t)).records).toEqual([]);
      }),
    );
  });
});

describe('ManifestDeltaDecoder', () => {
  it('rejects non-canonical, unsorted, duplicated and miscounted deltas', () => {
    const dir = '{"p":"a","t":"d"}\n';
    expectInvalid('', 'no header');
    expectInvalid(hdr(1), 'announces 1 changes; found 0');
    expectInvalid(`${hdr(0)}${dir}`, 'more changes than the header');
    expectInvalid(`${hdr(2)}${dir}${dir}`, 'duplicated or not sorted');
    expectInvalid(`${hdr(2)}{"p":"b","t":"d"}\n${dir}`, 'duplicated or not sorted');
    expectInvalid(`${hdr(2)}${dir}${removalLine('a')}\n`, 'duplicated or not sorted');
    expectInvalid(`${hdr(1)}{"t":"-","p":"a"}\n`, 'canonical');
    expectInvalid(`${hdr(1)}{"p":"a","t":"-","x":1}\n`, 'canonical');
    expectInvalid(`${hdr(1)}{"p":"a","t":"d"} \n`, 'canonical');
    expectInvalid(`${hdr(1)}{"p":"../a","t":"-"}\n`, 'invalid path');
    expectInvalid(`${hdr(1)}{"p":"a","t":"-"}`, 'no newline');
    expectInvalid(hdr(0).replace('"v":1', '"v":2'), 'unsupported delta version');
    expectInvalid(hdr(0).replace(BASE, 'abc'), '"base"');
    expectInvalid(hdr(0).replace(CHUNKER_ID, 'other'), 'unsupported chunker');
    expectInvalid(hdr(0).replace('"changes":0', '"changes":0.5'), '"changes"');
    expectInvalid(hdr(0).replace('"changes":0}', '"changes":0,"x":1}'), 'canonical');
    expectInvalid(hdr(0).replace('"manifest-delta"', '"manifest"'), 'not a trove manifest delta');
    expectInvalid(hdr(0).replace('"changes":0', '"changes":10000001'), 'too many');
    const ok = `${hdr(2)}${dir}${removalLine('a/b')}\n`;
    expect(decodeManifestDelta(Buffer.from(ok)).records.map((r) => r.entry)).toEqual([
      { path: 'a', type: 'dir' },
      null,
    ]);
    // Invalid UTF-8 in a path is not the path U+FFFD.
    const bad = Buffer.concat([
      Buffer.from(`${hdr(1)}{"p":"`),
      Buffer.of(0xff),
      Buffer.from('","t":"-"}\n'),
    ]);
    expect(() => decodeManifestDelta(bad)).toThrow(/canonical/);
  });

  it('never throws anything but TroveError on mutated, truncated or random input (fuzz)', () => {
    const a: ManifestEntry[] = [
      { path: 'a', type: 'dir' },
      { path: 'a/x', type: 'file', executable: false, size: 5, chunks: [{ digest: d1, size: 5 }] },
      { path: 'l', type: 'symlink', target: 'a/x' },
    ];
    const bytes = delta(a, [
      { path: 'a', type: 'dir' },
      { path: 'z', type: 'dir' },
    ]);
    for (let i = 0; i <= bytes.length; i++) {
      expect(succeedsOrTroveError(() => decodeManifestDelta(bytes.subarray(0, i)))).toBe(
        i === bytes.length,
      );
    }
    for (let seed = 1; seed < 2000; seed++)
      succeedsOrTroveError(() => decodeManifestDelta(mutate(bytes, seed)));
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (junk) => {
        succeedsOrTroveError(() => decodeManifestDelta(Buffer.concat([Buffer.from(hdr(1)), junk])));
        succeedsOrTroveError(() => decodeManifestDelta(junk));
      }),
    );
    fc.assert(
      fc.property(treeArb, treeArb, fc.nat(), (x, y, seed) => {
        const m = mutate(delta(x, y), seed);
        // Whatever the decoder accepts is canonical: decoding and re-encoding give the same bytes.
        let records: { line: string }[] = [];
        if (!succeedsOrTroveError(() => (records = decodeManifestDelta(m).records))) return;
        const text = m.toString();
        expect(text.slice(text.indexOf('\n') + 1)).toBe(records.map((r) => `${r.line}\n`).join(''));
      }),
    );
  });

  it('checks entries like the manifest decoder', () => {
    const f = entryLine({ path: 'f', type: 'file', executable: false, size: 5, chunks: [] });
    expectInvalid(`${hdr(1)}${f}\n`, 'differs from the sum');
  });
});

// Merge tests live in manifest-delta-merge.test.ts; this checks the decode half agrees with manifests.
describe('delta vs manifest', () => {
  it('a delta against an empty base lists every entry of the manifest, in order', () => {
    fc.assert(
      fc.property(treeArb, (t) => {
        const { records } = decodeManifestDelta(delta([], t));
        expect(records.map((r) => r.entry)).toEqual(
          decodeManifest(encodeManifest(t).bytes).entries,
        );
      }),
    );
  });
});

describe('compressManifestDelta', () => {
  it('stores zstd frames that the bounded frame decoder reads back', async () => {
    const t: ManifestEntry[] = [{ path: 'd', type: 'dir' }];
    for (let i = 0; i < 500; i++) t.push({ path: `d/f${i}`, type: 'symlink', target: 'x' });
    const raw = delta([], t);
    const stored = await compressManifestDelta(raw);
    expect(stored.length).toBeLessThan(raw.length / 2);
    const parts: Buffer[] = [];
    for await (const p of Readable.from([stored]).pipe(createZstdDecompressStream())) parts.push(p);
    expect(Buffer.concat(parts).equals(raw)).toBe(true);
  });
});
