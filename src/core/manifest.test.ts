import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TroveError } from '../errors.js';
import { mutate, succeedsOrTroveError, treeArb } from '../testing/core-arbitraries.js';
import { CHUNKER_ID } from './chunker-params.js';
import { sha256Hex } from './digest.js';
import { decodeManifest, encodeManifest, ManifestDecoder } from './manifest.js';
import { entryLine } from './manifest-line.js';
import type { ManifestEntry } from './types.js';

const d1 = sha256Hex(Buffer.from('one'));
const d2 = sha256Hex(Buffer.from('two'));

const sample: ManifestEntry[] = [
  {
    path: 'src/main.ts',
    type: 'file',
    executable: false,
    size: 30,
    chunks: [
      { digest: d1, size: 10 },
      { digest: d2, size: 20 },
    ],
  },
  { path: 'src', type: 'dir' },
  { path: 'run.sh', type: 'file', executable: true, size: 0, chunks: [] },
  { path: 'link', type: 'symlink', target: 'src/main.ts' },
];

function expectInvalid(text: string, fragment: string): void {
  try {
    decodeManifest(Buffer.from(text));
  } catch (err) {
    expect(err).toBeInstanceOf(TroveError);
    expect((err as TroveError).code).toBe('invalid_manifest');
    expect((err as TroveError).message).toContain(fragment);
    return;
  }
  throw new Error(`accepted: ${text}`);
}

function hdr(entries: number, files = 0, size = 0, refs = 0): string {
  return `{"trove":"manifest","v":1,"chunker":"${CHUNKER_ID}","entries":${entries},"files":${files},"size":${size},"chunkRefs":${refs}}\n`;
}

describe('encodeManifest', () => {
  it('writes the exact canonical bytes', () => {
    const { bytes, id, header } = encodeManifest(sample);
    expect(bytes.toString()).toBe(
      `${hdr(4, 2, 30, 2)}{"p":"link","t":"l","l":"src/main.ts"}\n{"p":"run.sh","t":"f","x":1,"s":0,"c":[]}\n{"p":"src","t":"d"}\n{"p":"src/main.ts","t":"f","x":0,"s":30,"c":[["${d1}",10],["${d2}",20]]}\n`,
    );
    expect(id).toBe(sha256Hex(bytes));
    expect(header).toEqual({ chunker: CHUNKER_ID, entries: 4, files: 2, size: 30, chunkRefs: 2 });
  });

  it('sorts by UTF-8 bytes, not UTF-16 code units', () => {
    // U+FFFF sorts before U+1F600 in bytes but after it in JS string order.
    const { bytes } = encodeManifest([
      { path: '😀', type: 'dir' },
      { path: '\uffff', type: 'dir' },
    ]);
    const lines = bytes.toString().split('\n');
    expect(lines[1]).toContain('\uffff');
    expect(lines[2]).toContain('😀');
  });

  it('rejects invalid trees', () => {
    const bad: ManifestEntry[][] = [
      [{ path: 'a/b', type: 'dir' }],
      [
        { path: 'a', type: 'file', executable: false, size: 0, chunks: [] },
        { path: 'a/b', type: 'dir' },
      ],
      [
        { path: 'a', type: 'dir' },
        { path: 'a', type: 'dir' },
      ],
      [{ path: '../x', type: 'dir' }],
      [{ path: 'x', type: 'file', executable: false, size: 5, chunks: [{ digest: d1, size: 4 }] }],
      [{ path: 'x', type: 'file', executable: false, size: 0, chunks: [{ digest: d1, size: 0 }] }],
      [
        {
          path: 'x',
          type: 'file',
          executable: false,
          size: 1,
          chunks: [{ digest: 'AB', size: 1 }],
        },
      ],
      [{ path: 'x', type: 'symlink', target: '' }],
      [{ path: 'bad\ud800', type: 'dir' }],
    ];
    for (const entries of bad) {
      expect(() => encodeManifest(entries), JSON.stringify(entries)).toThrow(TroveError);
    }
  });
});

describe('ManifestDecoder', () => {
  it('round-trips and gives the same id whatever the input order (property)', () => {
    fc.assert(
      fc.property(treeArb, fc.nat(), (tree, seed) => {
        const a = encodeManifest(tree);
        const shuffled = [...tree]
          .map((e, i) => ({ e, k: (i * 2654435761 + seed) % 1013 }))
          .sort((x, y) => x.k - y.k)
          .map((x) => x.e);
        expect(encodeManifest(shuffled).id).toBe(a.id);
        const decoded = decodeManifest(a.bytes);
        expect(decoded.header).toEqual(a.header);
        expect(encodeManifest(decoded.entries).bytes.equals(a.bytes)).toBe(true);
      }),
    );
  });

  it('decodes the same whatever the slicing', () => {
    const { bytes } = encodeManifest(sample);
    fc.assert(
      fc.property(fc.array(fc.nat(bytes.length), { maxLength: 6 }), (cuts) => {
        const points = [0, ...cuts.sort((x, y) => x - y), bytes.length];
        const d = new ManifestDecoder();
        const got: ManifestEntry[] = [];
        for (let i = 1; i < points.length; i++)
          got.push(...d.push(bytes.subarray(points[i - 1], points[i])));
        d.end();
        expect(got).toEqual(decodeManifest(bytes).entries);
      }),
    );
  });

  it('rejects non-canonical input with the line number', () => {
    expectInvalid(`${hdr(1)}{"t":"d","p":"a"}\n`, 'line 2: entry is not in canonical form');
    expectInvalid(`${hdr(1)}{"p":"a","t":"d","z":1}\n`, 'line 2: entry is not in canonical form');
    expectInvalid(`${hdr(1)}{"p":"a", "t":"d"}\n`, 'line 2');
    expectInvalid(`${hdr(1)}{"p":"\\u0061","t":"d"}\n`, 'canonical');
    expectInvalid(`${hdr(1)}{"p":"a","t":"f","x":0,"s":1.0,"c":[]}\n`, 'line 2');
    expectInvalid(`${hdr(1)}{"p":"a","t":"f","x":0,"s":-1,"c":[]}\n`, 'invalid file size');
    expectInvalid(`${hdr(1)}{"p":"a","t":"f","x":2,"s":0,"c":[]}\n`, '"x"');
    expectInvalid(
      `${hdr(1)}{"p":"a","t":"f","x":0,"s":300000,"c":[["${d1}",300000]]}\n`,
      'chunk size',
    );
    expectInvalid(
      `${hdr(2)}{"p":"b","t":"d"}\n{"p":"a","t":"d"}\n`,
      'line 3: path "a" is not sorted',
    );
    expectInvalid(`${hdr(2)}{"p":"a","t":"d"}\n{"p":"a","t":"d"}\n`, 'duplicate path');
    expectInvalid(`${hdr(1)}{"p":"a/b","t":"d"}\n`, 'parent directory');
    expectInvalid(`${hdr(1)}{"p":"/a","t":"d"}\n`, 'invalid entry path');
    expectInvalid(`${hdr(2)}{"p":"a","t":"d"}\n`, 'header announces 2 entries');
    expectInvalid(`${hdr(0)}{"p":"a","t":"d"}\n`, 'more entries than the header');
    expectInvalid(`${hdr(0)}x`, 'no newline');
    expectInvalid(`${hdr(1)}not json\n`, 'not valid JSON');
    expectInvalid('', 'no header');
    expectInvalid(hdr(0).replace('fastcdc', 'rabin'), 'unsupported chunker');
    expectInvalid(hdr(0).replace('"v":1', '"v":2'), 'version');
    expectInvalid(` ${hdr(0)}`, 'header is not in canonical form');
  });

  it('rejects invalid UTF-8 even when the replacement character would round-trip', () => {
    const bytes = Buffer.concat([
      Buffer.from(`${hdr(1)}{"p":"a`),
      Buffer.of(0xff),
      Buffer.from('","t":"d"}\n'),
    ]);
    expect(() => decodeManifest(bytes)).toThrow(/canonical/);
  });

  it('never throws anything but TroveError on random, mutated or truncated input (fuzz)', () => {
    const { bytes } = encodeManifest(sample);
    for (let i = 0; i <= bytes.length; i++) {
      const ok = succeedsOrTroveError(() => decodeManifest(bytes.subarray(0, i)));
      expect(ok).toBe(i === bytes.length);
    }
    for (let seed = 1; seed < 2000; seed++)
      succeedsOrTroveError(() => decodeManifest(mutate(bytes, seed)));
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (junk) => {
        succeedsOrTroveError(() => decodeManifest(Buffer.concat([Buffer.from(hdr(1)), junk])));
        succeedsOrTroveError(() => decodeManifest(junk));
      }),
    );
  });
});

describe('entryLine', () => {
  it('equals JSON.stringify of the entry object in key order (the format definition)', () => {
    fc.assert(
      fc.property(treeArb, (tree) => {
        for (const e of tree) {
          const obj =
            e.type === 'file'
              ? {
                  p: e.path,
                  t: 'f',
                  x: e.executable ? 1 : 0,
                  s: e.size,
                  c: e.chunks.map((c) => [c.digest, c.size]),
                }
              : e.type === 'dir'
                ? { p: e.path, t: 'd' }
                : { p: e.path, t: 'l', l: e.target };
          expect(entryLine(e)).toBe(JSON.stringify(obj));
        }
      }),
    );
    const odd: ManifestEntry = { path: 'q"\\\u0001\u2028', type: 'symlink', target: '"\n' };
    expect(entryLine(odd)).toBe(JSON.stringify({ p: odd.path, t: 'l', l: odd.target }));
  });
});
