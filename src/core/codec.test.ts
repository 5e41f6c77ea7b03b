import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TroveError } from '../errors.js';
import { mutate, succeedsOrTroveError } from '../testing/core-arbitraries.js';
import { compressChunk, compressChunkSync, decompressChunk } from './codec.js';

const text = Buffer.from(
  'export function hello(name: string) { return "hi " + name; }\n'.repeat(800),
);

describe('chunk codec', () => {
  it('compresses compressible data and round-trips it', async () => {
    const s = await compressChunk(text);
    expect(s.codec).toBe('zstd');
    expect(s.data.length).toBeLessThan(text.length / 5);
    expect(decompressChunk(s.codec, s.data, text.length).equals(text)).toBe(true);
    expect(compressChunkSync(text)).toEqual(s);
  });

  it('stores incompressible data raw', () => {
    const noise = randomBytes(5000);
    const s = compressChunkSync(noise);
    expect(s.codec).toBe('raw');
    expect(decompressChunk('raw', s.data, noise.length)).toBe(noise);
    expect(compressChunkSync(Buffer.alloc(0)).codec).toBe('raw');
  });

  it('round-trips any bytes (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), fc.nat(200), (bytes, rep) => {
        const raw = Buffer.concat([Buffer.from(bytes), Buffer.alloc(rep, 1)]);
        const s = compressChunkSync(raw);
        expect(decompressChunk(s.codec, s.data, raw.length).equals(raw)).toBe(true);
      }),
    );
  });

  it('rejects a wrong size, a corrupt frame or trailing data with invalid_pack', () => {
    const s = compressChunkSync(text);
    const bad = [
      () => decompressChunk('zstd', s.data, text.length - 1),
      () => decompressChunk('zstd', Buffer.concat([s.data, s.data]), text.length),
      () => decompressChunk('zstd', s.data.subarray(0, 20), text.length),
      () => decompressChunk('raw', text, 3),
      () => decompressChunk('lz4' as 'raw', text, text.length),
    ];
    for (const f of bad) {
      expect(f).toThrow(TroveError);
      try {
        f();
      } catch (err) {
        expect((err as TroveError).code).toBe('invalid_pack');
      }
    }
  });

  it('never throws anything but TroveError on mutated frames (fuzz)', () => {
    const s = compressChunkSync(text.subarray(0, 3000));
    for (let seed = 1; seed < 3000; seed++) {
      const m = mutate(s.data, seed);
      succeedsOrTroveError(() => {
        expect(decompressChunk('zstd', m, 3000).length).toBe(3000);
      });
    }
    for (let i = 0; i < s.data.length; i++) {
      expect(succeedsOrTroveError(() => decompressChunk('zstd', s.data.subarray(0, i), 3000))).toBe(
        false,
      );
    }
  });
});
