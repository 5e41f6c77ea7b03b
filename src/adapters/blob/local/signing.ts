import { createHmac, timingSafeEqual } from 'node:crypto';

/** Query parameter names of a locally signed URL. */
export const SIGNED_QUERY = {
  /** Unix time in seconds after which the URL is refused. */
  expires: 'X-Trove-Expires',
  /** Exact byte length a PUT must carry (PUT only). */
  size: 'X-Trove-Size',
  /** Lowercase hex SHA-256 the PUT bytes must have (PUT only). */
  sha256: 'X-Trove-Sha256',
  /** base64url HMAC-SHA256 of the canonical string. */
  signature: 'X-Trove-Signature',
} as const;

/** Everything a signature covers, as the exact strings that appear in the URL. */
export interface SignedFields {
  /** HTTP method the URL is good for (HEAD is verified as GET). */
  method: 'GET' | 'PUT';
  /** The blob key, as it appears in the path after the prefix. */
  key: string;
  /** Decimal unix seconds. */
  expires: string;
  /** Decimal byte length; absent for GET. */
  size?: string | undefined;
  /** Lowercase hex digest; absent for GET. */
  sha256?: string | undefined;
}

/**
 * One field per line, every field always present (empty when absent) and no
 * field able to contain a newline (keys, digits and hex are checked before
 * verifying), so two different requests can never share a canonical string.
 */
export function canonicalString(fields: SignedFields): string {
  return [
    'TROVE-HMAC-SHA256-V1',
    fields.method,
    fields.key,
    fields.expires,
    fields.size ?? '',
    fields.sha256 ?? '',
  ].join('\n');
}

/** base64url HMAC-SHA256 of the canonical string. */
export function signFields(secret: Buffer, fields: SignedFields): string {
  return createHmac('sha256', secret).update(canonicalString(fields)).digest('base64url');
}

/**
 * Compares encoded strings rather than decoded bytes: base64url decoding is
 * lenient (the last character has spare bits), and a signature must have
 * exactly one accepted spelling.
 */
export function signatureMatches(secret: Buffer, fields: SignedFields, given: string): boolean {
  const expected = Buffer.from(signFields(secret, fields));
  const actual = Buffer.from(given);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
