import type { Readable } from 'node:stream';
import type { BlobStore } from '../ports/blob-store.js';

/** Reads a whole (small, bounded) range of an object into one buffer. */
export async function readRange(
  blobs: BlobStore,
  key: string,
  range: { start: number; end: number },
): Promise<Buffer> {
  const stream = await blobs.get(key, range);
  return collect(stream);
}

/** Collects a stream the caller knows to be small. */
export async function collect(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(Buffer.isBuffer(part) ? part : Buffer.from(part));
  return Buffer.concat(parts);
}
