import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CHUNKER_PARAMS, type ChunkerParams, chunkBuffer } from './chunker.js';
import { sha256Hex } from './digest.js';
import { GuidedChunker, type HashedChunk } from './guided-chunker.js';
import type { ChunkRef } from './types.js';

const SMALL: ChunkerParams = { min: 64, avg: 256, max: 1024 };

const refs = (buf: Buffer, p: ChunkerParams): ChunkRef[] =>
  chunkBuffer(buf, p).map((c) => ({ digest: sha256Hex(c), size: c.length }));

function guided(
  prev: ChunkRef[],
  next: Buffer,
  p: ChunkerParams,
  slices: number[],
  reused: { bytes: number } = { bytes: 0 },
): ChunkRef[] {
  const g = new GuidedChunker(prev, next.length, p);
  const out: HashedChunk[] = [];
  let at = 0;
  let i = 0;
  while (at < next.length) {
    const n = Math.max(1, slices[i++ % Math.max(1, slices.length)] ?? 1);
    out.push(...g.push(Buffer.from(next.subarray(at, at + n))));
    at += n;
  }
  out.push(...g.finish());
  reused.bytes = g.reusedBytes;
  for (const c of out) expect(c.digest).toBe(sha256Hex(c.data));
  expect(Buffer.concat(out.map((c) => c.data)).equals(next)).toBe(true);
  return out.map((c) => ({ digest: c.digest, size: c.data.length }));
}

/** An edit of a buffer: overwrite, insert, delete, append or truncate at a position. */
interface Edit {
  kind: 'overwrite' | 'insert' | 'delete' | 'append' | 'truncate';
  at: number;
  len: number;
  seed: number;
}

const editArb: fc.Arbitrary<Edit> = fc.record({
  kind: fc.constantFrom('overwrite', 'insert', 'delete', 'append', 'truncate'),
  at: fc.double({ min: 0, max: 1, noNaN: true }),
  len: fc.integer({ min: 1, max: 3000 }),
  seed: fc.integer(),
});

function applyEdit(buf: Buffer, e: Edit): Buffer {
  const at = Math.floor(e.at * buf.length);
  const bytes = Buffer.from(Buffer.alloc(e.len, e.seed & 0xff).map((b, i) => (b + i * 31) & 0xff));
  switch (e.kind) {
    case 'overwrite':
      return Buffer.concat([
        buf.subarray(0, at),
        bytes.subarray(0, buf.length - at),
        buf.subarray(at + e.len),
      ]);
    case 'insert':
      return Buffer.concat([buf.subarray(0, at), bytes, buf.subarray(at)]);
    case 'delete':
      return Buffer.concat([buf.subarray(0, at), buf.subarray(at + e.len)]);
    case 'append':
      return Buffer.concat([buf, bytes]);
    default:
      return buf.subarray(0, at);
  }
}

describe('GuidedChunker', () => {
  it('cuts exactly like the CDC chunker after any edits, in any slicing (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 40_000 }),
        fc.array(editArb, { maxLength: 4 }),
        fc.array(fc.integer({ min: 1, max: 5000 }), { maxLength: 6 }),
        fc.integer(),
        (size, edits, slices, seed) => {
          const old = Buffer.from(
            Buffer.alloc(size).map((_, i) => (Math.imul(i ^ seed, 2654435761) >>> 13) & 0xff),
          );
          const next = edits.reduce(applyEdit, Buffer.from(old));
          const reused = { bytes: 0 };
          expect(guided(refs(old, SMALL), next, SMALL, slices, reused)).toEqual(refs(next, SMALL));
          // Unedited, every byte is reused (the guidance is not vacuous).
          if (edits.length === 0) expect(reused.bytes).toBe(size);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('treats the old chunks as hints: wrong, foreign or empty lists still give CDC cuts', () => {
    const next = randomBytes(20_000);
    const wrong: ChunkRef[] = [
      { digest: sha256Hex(next.subarray(0, 100)), size: 100 },
      { digest: '0'.repeat(64), size: 900 },
    ];
    for (const prev of [[], wrong, refs(randomBytes(20_000), SMALL)])
      expect(guided(prev, next, SMALL, [777])).toEqual(refs(next, SMALL));
  });

  it('reuses the old cuts of a large file rewritten in place, with the default parameters', () => {
    const old = randomBytes(4 * 1024 * 1024);
    const next = Buffer.from(old);
    for (let page = 7; page < 1024; page += 97) randomBytes(4096).copy(next, page * 4096);
    const reused = { bytes: 0 };
    expect(guided(refs(old, CHUNKER_PARAMS), next, CHUNKER_PARAMS, [1 << 20], reused)).toEqual(
      refs(next, CHUNKER_PARAMS),
    );
    expect(reused.bytes).toBeGreaterThan(0.5 * next.length);
  });
});
