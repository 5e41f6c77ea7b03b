import { createHmac, timingSafeEqual } from 'node:crypto';
import { TroveError } from '../../../errors.js';
import type { PresignedRequest } from '../../../ports/blob-store.js';
import { isValidBlobKey } from '../checked.js';

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

/** Query of a signed request: URLSearchParams or a parsed record (Hono's `c.req.queries()`). */
export type SignedQuery = URLSearchParams | Record<string, string | string[] | undefined>;

const DIGITS = /^[0-9]{1,16}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;

function signatureInvalid(why: string): TroveError {
  return new TroveError('signature_invalid', `signed URL rejected: ${why}`);
}

function single(query: SignedQuery, name: string): string | undefined {
  const values =
    query instanceof URLSearchParams
      ? query.getAll(name)
      : ([] as (string | undefined)[]).concat(query[name]).filter((v) => v !== undefined);
  if (values.length > 1) throw signatureInvalid(`${name} given more than once`);
  return values[0];
}

/** The relative URL (`<pathPrefix>/<key>?X-Trove-...`) for already validated fields. */
export function signedRequest(
  secret: Buffer,
  pathPrefix: string,
  fields: SignedFields,
): PresignedRequest {
  const query = new URLSearchParams();
  query.set(SIGNED_QUERY.expires, fields.expires);
  if (fields.size !== undefined) query.set(SIGNED_QUERY.size, fields.size);
  if (fields.sha256 !== undefined) query.set(SIGNED_QUERY.sha256, fields.sha256);
  query.set(SIGNED_QUERY.signature, signFields(secret, fields));
  return {
    method: fields.method,
    url: `${pathPrefix}/${fields.key}?${query.toString()}`,
    headers: {},
    expiresAt: new Date(Number(fields.expires) * 1000).toISOString(),
  };
}

/**
 * Checks a request against its signed URL at time `nowMs`. HEAD is verified
 * as GET. Throws `signature_invalid` when anything signed differs (method,
 * key, expiry, size, digest) or is missing, and `url_expired` for a genuine
 * but old URL. Returns what a PUT must carry.
 */
export function verifySignedQuery(
  secret: Buffer,
  nowMs: number,
  method: string,
  key: string,
  query: SignedQuery,
): { size?: number; sha256?: string } {
  const verb = method.toUpperCase() === 'HEAD' ? 'GET' : method.toUpperCase();
  if (verb !== 'GET' && verb !== 'PUT') throw signatureInvalid(`method ${method} is never signed`);
  if (!isValidBlobKey(key)) throw signatureInvalid('bad key');
  const expires = single(query, SIGNED_QUERY.expires);
  const size = single(query, SIGNED_QUERY.size);
  const sha256 = single(query, SIGNED_QUERY.sha256);
  const signature = single(query, SIGNED_QUERY.signature);
  if (signature === undefined) throw signatureInvalid('no signature');
  // Shapes are checked before hashing so no field can smuggle a newline into
  // the canonical string.
  if (expires === undefined || !DIGITS.test(expires)) throw signatureInvalid('bad expiry');
  if (size !== undefined && !DIGITS.test(size)) throw signatureInvalid('bad size');
  if (sha256 !== undefined && !SHA256_HEX.test(sha256)) throw signatureInvalid('bad sha256');
  if (verb === 'PUT' && (size === undefined || sha256 === undefined)) {
    throw signatureInvalid('a PUT URL must carry size and sha256');
  }
  if (!signatureMatches(secret, { method: verb, key, expires, size, sha256 }, signature)) {
    throw signatureInvalid('signature does not match');
  }
  const expiresAt = Number(expires) * 1000;
  if (nowMs >= expiresAt) {
    throw new TroveError('url_expired', 'signed URL has expired', {
      expiresAt: new Date(expiresAt).toISOString(),
    });
  }
  return verb === 'PUT' ? { size: Number(size), sha256: sha256 as string } : {};
}
