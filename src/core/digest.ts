import { createHash } from 'node:crypto';
import type { Digest } from './types.js';

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
  if (typeof s !== 'string' || s.length !== 64) return false;
  for (let i = 0; i < 64; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}
