import { execFileSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { mutate, succeedsOrTroveError } from '../testing/core-arbitraries.js';
import { TAR_END, type TarHeaderInput, tarHeader, tarPadding } from './tar.js';
import { type TarEvent, TarReader } from './tar-reader.js';

interface Item {
  header: TarHeaderInput;
  data: Buffer;
}

function archive(items: Item[]): Buffer {
  const parts: Buffer[] = [];
  for (const { header, data } of items)
    parts.push(tarHeader(header), data, tarPadding(data.length));
  parts.push(TAR_END);
  return Buffer.concat(parts);
}

/** Reads a whole archive, pushing it in the given slices, back into items. */
function read(bytes: Buffer, cuts: number[] = []): Item[] {
  const r = new TarReader();
  const points = [
    0,
    ...cuts.map((c) => c % (bytes.length + 1)).sort((a, b) => a - b),
    bytes.length,
  ];
  const events: TarEvent[] = [];
  for (let i = 1; i < points.length; i++)
    events.push(...r.push(bytes.subarray(points[i - 1], points[i])));
  r.end();
  const items: Item[] = [];
  let parts: Buffer[] = [];
  for (const e of events) {
    if (e.kind === 'entry') {
      items.push({ header: e.header, data: Buffer.alloc(0) });
      parts = [];
    } else if (e.kind === 'data') parts.push(Buffer.from(e.bytes));
    else if (e.kind === 'entryEnd') items[items.length - 1]!.data = Buffer.concat(parts);
  }
  expect(events[events.length - 1]).toEqual({ kind: 'end' });
  return items;
}

const longName = `${'deep/'.repeat(40)}file-${'n'.repeat(120)}.txt`;
const sample: Item[] = [
  {
    header: { path: 'dir', type: 'dir', size: 0, mode: 0o755, mtime: 1_700_000_000 },
    data: Buffer.alloc(0),
  },
  {
    header: { path: 'dir/a.txt', type: 'file', size: 5, mode: 0o644, mtime: 1_700_000_000 },
    data: Buffer.from('hello'),
  },
  {
    header: { path: 'dir/run.sh', type: 'file', size: 600, mode: 0o755, mtime: 0 },
    data: Buffer.alloc(600, 'x'),
  },
  {
    header: { path: 'dir/ünïcödé 😀', type: 'file', size: 0, mode: 0o644, mtime: 0 },
    data: Buffer.alloc(0),
  },
  {
    header: {
      path: 'dir/link',
      type: 'symlink',
      size: 0,
      mode: 0o777,
      mtime: 0,
      linkname: 'a.txt',
    },
    data: Buffer.alloc(0),
  },
  {
    header: {
      path: 'dir/longlink',
      type: 'symlink',
      size: 0,
      mode: 0o777,
      mtime: 0,
      linkname: `./${'x/'.repeat(60)}é`,
    },
    data: Buffer.alloc(0),
  },
  {
    header: { path: longName, type: 'file', size: 3, mode: 0o644, mtime: 0 },
    data: Buffer.from('abc'),
  },
];

const tmp = mkdtempSync(join(tmpdir(), 'trove-tar-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('tar writer and reader', () => {
  it('round-trips (property over entries and slicings)', () => {
    const nameArb = fc
      .string({ unit: 'grapheme', minLength: 1, maxLength: 140 })
      .filter((s) => !s.includes('\0') && !s.endsWith('/'));
    const itemArb = fc.oneof(
      fc.tuple(nameArb, fc.uint8Array({ maxLength: 1500 }), fc.boolean()).map(
        ([path, d, x]): Item => ({
          header: { path, type: 'file', size: d.length, mode: x ? 0o755 : 0o644, mtime: 12345 },
          data: Buffer.from(d),
        }),
      ),
      nameArb.map(
        (path): Item => ({
          header: { path, type: 'dir', size: 0, mode: 0o755, mtime: 0 },
          data: Buffer.alloc(0),
        }),
      ),
      fc.tuple(nameArb, nameArb).map(
        ([path, linkname]): Item => ({
          header: { path, type: 'symlink', size: 0, mode: 0o777, mtime: 0, linkname },
          data: Buffer.alloc(0),
        }),
      ),
    );
    fc.assert(
      fc.property(
        fc.array(itemArb, { maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        (items, cuts) => {
          const want = items.map((i) => ({
            ...i,
            header: {
              ...i.header,
              path: i.header.type === 'dir' ? i.header.path.replace(/\/+$/, '') : i.header.path,
            },
          }));
          expect(read(archive(items), cuts)).toEqual(want);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('writes 8 GiB sizes through PAX', () => {
    const h = tarHeader({ path: 'big', type: 'file', size: 9 * 2 ** 30, mode: 0o644, mtime: 0 });
    const r = new TarReader();
    const ev = r.push(h);
    expect(ev).toEqual([
      {
        kind: 'entry',
        header: { path: 'big', type: 'file', size: 9 * 2 ** 30, mode: 0o644, mtime: 0 },
      },
    ]);
  });

  it('is extracted correctly by system tar', () => {
    const file = join(tmp, 'mine.tar');
    writeFileSync(file, archive(sample));
    const out = join(tmp, 'x1');
    mkdirSync(out);
    execFileSync('tar', ['-xf', file, '-C', out]);
    expect(readFileSync(join(out, 'dir/a.txt'), 'utf8')).toBe('hello');
    expect(statSync(join(out, 'dir/run.sh')).mode & 0o777).toBe(0o755);
    expect(readFileSync(join(out, 'dir/ünïcödé 😀')).length).toBe(0);
    expect(readlinkSync(join(out, 'dir/link'))).toBe('a.txt');
    expect(readlinkSync(join(out, 'dir/longlink'))).toBe(sample[5]!.header.linkname);
    expect(readFileSync(join(out, longName), 'utf8')).toBe('abc');
    const listed = execFileSync('tar', ['-tf', file], { encoding: 'utf8' }).split('\n');
    expect(listed).toContain('dir/');
  });

  it('reads archives made by system tar (pax and gnu formats)', () => {
    const src = join(tmp, 'src');
    mkdirSync(join(src, 'sub', longName.slice(0, longName.lastIndexOf('/'))), { recursive: true });
    writeFileSync(join(src, 'sub', longName), 'long');
    writeFileSync(join(src, 'sub', 'é.bin'), Buffer.alloc(70_000, 7));
    symlinkSync(`../${'y'.repeat(150)}`, join(src, 'sub', 'l'));
    for (const format of ['pax', 'gnu', 'ustar']) {
      const file = join(tmp, `sys-${format}.tar`);
      const args = ['-c', `--format=${format}`, '-f', file, '-C', src, 'sub'];
      if (format === 'ustar') {
        // ustar cannot hold the long names; archive just the short file.
        args.splice(args.length - 1, 1, 'sub/é.bin');
      }
      execFileSync('tar', args);
      const items = read(readFileSync(file));
      const byPath = new Map(items.map((i) => [i.header.path, i]));
      expect(byPath.get('sub/é.bin')?.data.equals(Buffer.alloc(70_000, 7))).toBe(true);
      if (format !== 'ustar') {
        expect(byPath.get(`sub/${longName}`)?.data.toString()).toBe('long');
        expect(byPath.get('sub/l')?.header.linkname).toBe(`../${'y'.repeat(150)}`);
        expect(byPath.get('sub')?.header.type).toBe('dir');
      }
    }
  });

  it('refuses hard links, devices and FIFOs with unsafe_path', () => {
    const h = tarHeader({ path: 'x', type: 'file', size: 0, mode: 0o644, mtime: 0 });
    for (const flag of ['1', '3', '4', '6']) {
      const b = Buffer.from(h);
      b[156] = flag.charCodeAt(0);
      b.fill(0x20, 148, 156);
      let sum = 0;
      for (const x of b) sum += x;
      b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
      expect(() => new TarReader().push(b)).toThrow(
        expect.objectContaining({ code: 'unsafe_path' }),
      );
    }
  });

  it('rejects a bad checksum and a truncated archive', () => {
    const bytes = archive(sample);
    const b = Buffer.from(bytes);
    b[0]! ^= 1;
    expect(() => read(b)).toThrow(/checksum/);
    expect(() => read(bytes.subarray(0, bytes.length - 512))).toThrow(/truncated/);
  });

  it('never throws anything but TroveError on random, mutated or truncated archives (fuzz)', () => {
    const bytes = archive(sample.slice(0, 3));
    for (let i = 0; i < bytes.length; i++) {
      expect(succeedsOrTroveError(() => read(bytes.subarray(0, i)))).toBe(false);
    }
    for (let seed = 1; seed < 1500; seed++) succeedsOrTroveError(() => read(mutate(bytes, seed)));
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 512, maxLength: 2048 }), (junk) => {
        const b = Buffer.from(junk);
        // Give random blocks a valid checksum so parsing goes past it.
        b.fill(0x20, 148, 156);
        let sum = 0;
        for (let i = 0; i < 512; i++) sum += b[i]!;
        b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
        b.write('ustar\x0000', 257, 'latin1');
        succeedsOrTroveError(() => read(b));
        succeedsOrTroveError(() => read(Buffer.from(junk)));
      }),
    );
  });
});
