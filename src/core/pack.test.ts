import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TroveError } from '../errors.js';
import { mutate, succeedsOrTroveError } from '../testing/core-arbitraries.js';
import { compressChunkSync } from './codec.js';
import { sha256Hex } from './digest.js';
import { PACK_TRAILER_SIZE, PackWriter, parsePackFooter, parsePackTrailer } from './pack.js';
import { PackVerifier } from './pack-verify.js';

function buildPack(raws: Buffer[]) {
  const w = new PackWriter();
  for (const raw of raws) {
    const s = compressChunkSync(raw);
    w.add(sha256Hex(raw), s.data, raw.length, s.codec);
  }
  return w.finish();
}

/** Parses a pack from its bytes the way the server does: trailer, then footer. */
function parse(pack: Buffer) {
  const trailer = parsePackTrailer(pack.subarray(pack.length - PACK_TRAILER_SIZE));
  const footerStart = pack.length - PACK_TRAILER_SIZE - trailer.footerSize;
  if (footerStart < 0) throw new TroveError('invalid_pack', 'short');
  return parsePackFooter(
    pack.subarray(footerStart, pack.length - PACK_TRAILER_SIZE),
    trailer,
    pack.length,
  );
}

function verify(pack: Buffer, id: string, cuts: number[] = []) {
  const v = new PackVerifier(id, pack.length, parse(pack));
  const points = [0, ...cuts.map((c) => c % (pack.length + 1)).sort((a, b) => a - b), pack.length];
  for (let i = 1; i < points.length; i++) v.update(pack.subarray(points[i - 1], points[i]));
  v.finish();
}

const text = (n: number) =>
  Buffer.from(`line ${n} of some text that compresses well\n`.repeat(50 + n));
const raws = [text(1), randomBytes(3000), text(2), Buffer.from('x')];

describe('pack', () => {
  it('writes, parses and verifies (property over chunk sets and slicings)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.uint8Array({ minLength: 1, maxLength: 2000 }), {
          maxLength: 8,
          selector: (b) => Buffer.from(b).toString('hex'),
        }),
        fc.array(fc.nat()),
        (arrays, cuts) => {
          const p = buildPack(arrays.map((a) => Buffer.from(a)));
          const bytes = Buffer.concat(p.bytes);
          expect(bytes.length).toBe(p.size);
          expect(sha256Hex(bytes)).toBe(p.id);
          expect(parse(bytes)).toEqual(p.chunks);
          verify(bytes, p.id, cuts);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('lays chunks out contiguously with a 49-byte record each and a 24-byte trailer', () => {
    const p = buildPack(raws);
    const bytes = Buffer.concat(p.bytes);
    const dataEnd = p.chunks.reduce((n, c) => n + c.storedSize, 0);
    expect(bytes.length).toBe(dataEnd + 4 * 49 + 24);
    expect(bytes.subarray(-8).toString()).toBe('TROVEPK1');
    expect(p.chunks.map((c) => c.codec)).toEqual(['zstd', 'raw', 'zstd', 'raw']);
  });

  it('names the corrupt chunk, and detects a wrong id or size', () => {
    const p = buildPack(raws);
    const bytes = Buffer.concat(p.bytes);
    const second = p.chunks[1]!;
    const bad = Buffer.from(bytes);
    bad[second.offset + 5]! ^= 1;
    const err = (() => {
      try {
        verify(bad, p.id);
      } catch (e) {
        return e as TroveError;
      }
      return null;
    })();
    expect(err?.code).toBe('digest_mismatch');
    expect(err?.details?.chunk).toBe(second.digest);
    expect(() => verify(bytes, sha256Hex(Buffer.from('other')))).toThrow(/has SHA-256/);
    const v = new PackVerifier(p.id, bytes.length, p.chunks);
    v.update(bytes.subarray(0, 10));
    expect(() => v.finish()).toThrow(expect.objectContaining({ code: 'size_mismatch' }));
    const v2 = new PackVerifier(p.id, bytes.length, p.chunks);
    expect(() => v2.update(Buffer.concat([bytes, Buffer.of(0)]))).toThrow(
      expect.objectContaining({ code: 'size_mismatch' }),
    );
  });

  it('rejects a footer that does not match the chunk table', () => {
    const p = buildPack(raws);
    const bytes = Buffer.concat(p.bytes);
    const lied = p.chunks.map((c, i) =>
      i === 3 ? { ...c, digest: sha256Hex(Buffer.from('y')) } : c,
    );
    expect(() => verify(bytes, p.id, [])).not.toThrow();
    const v = new PackVerifier(p.id, bytes.length, lied);
    expect(() => v.update(bytes)).toThrow(TroveError);
  });

  it('refuses a chunk table that does not tile the pack', () => {
    const p = buildPack(raws);
    const swapped = [p.chunks[1]!, p.chunks[0]!, ...p.chunks.slice(2)];
    expect(() => new PackVerifier(p.id, p.size, swapped)).toThrow(/not contiguous/);
    expect(() => new PackVerifier(p.id, p.size + 1, p.chunks)).toThrow(/does not match its size/);
  });

  it('refuses bad chunks at write time', () => {
    const w = new PackWriter();
    const d = sha256Hex(Buffer.from('a'));
    w.add(d, Buffer.from('a'), 1, 'raw');
    expect(() => w.add(d, Buffer.from('a'), 1, 'raw')).toThrow(RangeError);
    expect(() => w.add(sha256Hex(Buffer.from('b')), Buffer.from('bb'), 1, 'raw')).toThrow(
      RangeError,
    );
    expect(() => w.add('nothex', Buffer.from('a'), 1, 'raw')).toThrow(RangeError);
  });

  it('never throws anything but TroveError on random, mutated or truncated packs (fuzz)', () => {
    const p = buildPack(raws);
    const bytes = Buffer.concat(p.bytes);
    const attempt = (b: Buffer) => succeedsOrTroveError(() => verify(b, p.id));
    for (let i = 0; i < bytes.length; i++) expect(attempt(bytes.subarray(0, i))).toBe(false);
    let accepted = 0;
    for (let seed = 1; seed < 3000; seed++) {
      const m = mutate(bytes, seed);
      // The id pins every byte, so only a mutation that changed nothing may pass.
      if (attempt(m) && !m.equals(bytes)) accepted++;
    }
    expect(accepted).toBe(0);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (junk) => {
        const b = Buffer.concat([Buffer.from(junk), Buffer.from('TROVEPK1')]);
        expect(succeedsOrTroveError(() => verify(b, sha256Hex(b)))).toBe(false);
        succeedsOrTroveError(() => verify(Buffer.from(junk), sha256Hex(junk)));
      }),
    );
  });
});
