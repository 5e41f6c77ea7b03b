import { createHash, type Hash } from 'node:crypto';
import { TroveError } from '../errors.js';
import { decompressChunk } from './codec.js';
import { packTail } from './pack.js';
import type { Digest, PackedChunk } from './types.js';

/**
 * Verifies a whole pack read sequentially, in slices of any size: the size,
 * the SHA-256 of all bytes (the pack id), that the footer and trailer are
 * exactly those of `chunks`, and that every chunk decompresses to its raw
 * size and digest. Memory: one stored chunk at a time.
 */
export class PackVerifier {
  private readonly hash: Hash = createHash('sha256');
  private readonly tail: Buffer;
  private readonly dataEnd: number;
  private pos = 0;
  private index = 0;
  private parts: Buffer[] = [];
  private partBytes = 0;
  private done = false;

  /** `chunks` as parsed from the footer (contiguous, in offset order). */
  constructor(
    private readonly expectedId: Digest,
    private readonly size: number,
    private readonly chunks: readonly PackedChunk[],
  ) {
    this.tail = packTail(chunks);
    let end = 0;
    for (const c of chunks) {
      // Chunks are checked in stream order, so the table must tile the data region.
      if (c.offset !== end)
        throw new TroveError('invalid_pack', `pack ${expectedId}: chunk table is not contiguous`, {
          pack: expectedId,
          chunk: c.digest,
        });
      end += c.storedSize;
    }
    this.dataEnd = end;
    if (this.dataEnd + this.tail.length !== size)
      throw new TroveError(
        'invalid_pack',
        `pack ${expectedId}: chunk table does not match its size`,
        {
          pack: expectedId,
        },
      );
  }

  /** Feeds the next bytes of the pack. Throws as soon as something does not match. */
  update(bytes: Buffer): void {
    if (this.done) throw new TroveError('internal', 'PackVerifier.update after finish');
    if (this.pos + bytes.length > this.size)
      throw new TroveError(
        'size_mismatch',
        `pack ${this.expectedId} is longer than ${this.size} bytes`,
        {
          pack: this.expectedId,
          expected: this.size,
        },
      );
    this.hash.update(bytes);
    let off = 0;
    while (off < bytes.length) {
      const chunk = this.chunks[this.index];
      if (chunk === undefined) {
        this.checkTail(bytes.subarray(off));
        this.pos += bytes.length - off;
        return;
      }
      const need = chunk.storedSize - this.partBytes;
      const take = Math.min(need, bytes.length - off);
      this.parts.push(bytes.subarray(off, off + take));
      this.partBytes += take;
      off += take;
      this.pos += take;
      if (this.partBytes === chunk.storedSize) this.checkChunk(chunk);
    }
  }

  /** Ends the input; throws size_mismatch or digest_mismatch. */
  finish(): void {
    if (this.done) return;
    this.done = true;
    if (this.pos !== this.size)
      throw new TroveError(
        'size_mismatch',
        `pack ${this.expectedId} is ${this.pos} bytes, expected ${this.size}`,
        {
          pack: this.expectedId,
          expected: this.size,
          actual: this.pos,
        },
      );
    const actual = this.hash.digest('hex');
    if (actual !== this.expectedId)
      throw new TroveError('digest_mismatch', `pack ${this.expectedId} has SHA-256 ${actual}`, {
        pack: this.expectedId,
        actual,
      });
  }

  private checkTail(bytes: Buffer): void {
    const at = this.pos - this.dataEnd;
    if (!bytes.equals(this.tail.subarray(at, at + bytes.length)))
      throw new TroveError(
        'invalid_pack',
        `pack ${this.expectedId}: footer does not match its chunk table`,
        {
          pack: this.expectedId,
        },
      );
  }

  private checkChunk(chunk: PackedChunk): void {
    const stored = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts);
    this.parts = [];
    this.partBytes = 0;
    this.index++;
    let raw: Buffer;
    try {
      raw = decompressChunk(chunk.codec, stored, chunk.rawSize);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      throw new TroveError(
        'invalid_pack',
        `pack ${this.expectedId}, chunk ${chunk.digest}: ${message}`,
        {
          pack: this.expectedId,
          chunk: chunk.digest,
        },
      );
    }
    const actual = createHash('sha256').update(raw).digest('hex');
    if (actual !== chunk.digest)
      throw new TroveError(
        'digest_mismatch',
        `pack ${this.expectedId}: chunk ${chunk.digest} has SHA-256 ${actual}`,
        {
          pack: this.expectedId,
          chunk: chunk.digest,
          actual,
        },
      );
  }
}
