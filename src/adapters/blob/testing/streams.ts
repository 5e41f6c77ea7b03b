import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';

const CHUNK = 64 * 1024;

/** Deterministic pseudo-random bytes (xorshift32), fast enough for many MiB. */
export function pseudoRandomBytes(length: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  let x = seed >>> 0 || 0x9e3779b9;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

function* chunksOf(length: number, seed: number): Generator<Buffer> {
  for (let offset = 0, n = 0; offset < length; offset += CHUNK, n++) {
    yield pseudoRandomBytes(Math.min(CHUNK, length - offset), seed + n);
  }
}

/** A byte stream of `length` deterministic bytes produced on demand, never held whole. */
export function generatedStream(length: number, seed: number): Readable {
  return Readable.from(chunksOf(length, seed), { objectMode: false });
}

/** SHA-256 (hex) of what `generatedStream(length, seed)` yields. */
export function generatedSha256(length: number, seed: number): string {
  const hash = createHash('sha256');
  for (const chunk of chunksOf(length, seed)) hash.update(chunk);
  return hash.digest('hex');
}

/** SHA-256 (hex) of a buffer. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Consumes a stream, returning its length and SHA-256 without keeping the bytes. */
export async function digestStream(
  stream: AsyncIterable<Uint8Array>,
): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of stream) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { size, sha256: hash.digest('hex') };
}

/** Reads a (small) stream fully. */
export async function readAll(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}
