import { createCipheriv, createHash } from 'node:crypto';

/**
 * Deterministic randomness for the workload generator. Math.random is never
 * used: the same seed must give the same tree on every machine, so runs and
 * machines compare like with like.
 */

/** A small, fast seeded PRNG (sfc32: passes PractRand, 32-bit state words). */
export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: string) {
    // Derive the 128-bit state from a hash so similar seeds give unrelated streams.
    const h = createHash('sha256').update(seed).digest();
    this.a = h.readUInt32LE(0);
    this.b = h.readUInt32LE(4);
    this.c = h.readUInt32LE(8);
    this.d = h.readUInt32LE(12) | 1;
    for (let i = 0; i < 12; i++) this.next();
  }

  /** Uniform 32-bit unsigned integer. */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform float in [0, 1). */
  float(): number {
    return this.next() / 4294967296;
  }

  /** Uniform integer in [lo, hi] (inclusive). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.float() * items.length)];
    if (item === undefined) throw new Error('pick from an empty array');
    return item;
  }

  /** `count` distinct indexes in [0, n), in random order. */
  sample(n: number, count: number): number[] {
    const chosen = new Set<number>();
    const k = Math.min(count, n);
    while (chosen.size < k) chosen.add(Math.floor(this.float() * n));
    return [...chosen];
  }
}

/**
 * Incompressible bytes from a seed: an AES-256-CTR keystream. Generating tens
 * of MiB word by word in JS would dominate the generator's run time; AES-NI
 * produces them at GB/s and is just as deterministic.
 */
export function randomBytes(seed: string, size: number): Buffer {
  const key = createHash('sha256').update(`key:${seed}`).digest();
  const iv = createHash('sha256').update(`iv:${seed}`).digest().subarray(0, 16);
  const cipher = createCipheriv('aes-256-ctr', key, iv);
  return cipher.update(Buffer.alloc(size));
}
