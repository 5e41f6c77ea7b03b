import { createHash, type Hash } from 'node:crypto';
import type { ChunkRef } from '../../core/types.js';
import { TroveError } from '../../errors.js';

/**
 * Checks that a stream of file bytes is exactly the manifest's chunk list.
 * It cuts at the manifest's own chunk sizes rather than re-running FastCDC:
 * if every slice hashes to its listed digest and the total matches, the file
 * is byte for byte the concatenation of those chunks, which is the same proof
 * for a fraction of the work.
 */
export class ChunkCheck {
  private readonly path: string;
  private readonly chunks: readonly ChunkRef[];
  private index = 0;
  private hash: Hash | null = null;
  private left = 0;
  private total = 0;

  /** Expects the bytes of `path`, made of `chunks` in order. */
  constructor(path: string, chunks: readonly ChunkRef[]) {
    this.path = path;
    this.chunks = chunks;
    this.startChunk();
  }

  /** Consumes the next bytes of the file; throws digest_mismatch at the first bad chunk. */
  push(bytes: Uint8Array): void {
    let at = 0;
    this.total += bytes.length;
    while (at < bytes.length) {
      if (this.hash === null) throw this.fail('the file is longer than its manifest entry');
      const n = Math.min(this.left, bytes.length - at);
      this.hash.update(at === 0 && n === bytes.length ? bytes : bytes.subarray(at, at + n));
      at += n;
      this.left -= n;
      if (this.left === 0) this.finishChunk();
    }
  }

  /** Declares the end of the file; throws unless every chunk was seen whole. */
  end(): void {
    if (this.hash !== null || this.index < this.chunks.length)
      throw this.fail(`the file has ${this.total} bytes, fewer than its manifest entry`);
  }

  private startChunk(): void {
    const c = this.chunks[this.index];
    if (c === undefined) {
      this.hash = null;
      return;
    }
    this.hash = createHash('sha256');
    this.left = c.size;
    // A zero-size chunk cannot occur in a valid manifest, but must not stall the loop.
    if (this.left === 0) this.finishChunk();
  }

  private finishChunk(): void {
    const c = this.chunks[this.index]!;
    const digest = this.hash!.digest('hex');
    if (digest !== c.digest)
      throw this.fail(`chunk ${this.index} hashes to ${digest}, expected ${c.digest}`);
    this.index++;
    this.startChunk();
  }

  private fail(why: string): TroveError {
    return new TroveError('digest_mismatch', `${JSON.stringify(this.path)}: ${why}`, {
      path: this.path,
    });
  }
}
