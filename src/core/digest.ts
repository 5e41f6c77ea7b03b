import { createHash } from 'node:crypto';
import type { Digest } from './types.js';

const DIGEST_RE = /^[0-9a-f]{64}$/;

/** Lowercase hex SHA-256 of one buffer or of the concatenation of several (without copying them). */
export function sha256Hex(data: Uint8Array | Uint8Array[]): Digest {
  const hash = createHash('sha256');
  if (Array.isArray(data)) {
    for (const part of data) hash.update(part);
  } else {
    hash.update(data);
  }
  return hash.digest('hex');
}

/** True for a lowercase hex SHA-256 digest (64 characters); uppercase is not canonical. */
export function isDigest(s: unknown): s is Digest {
  return typeof s === 'string' && DIGEST_RE.test(s);
}
