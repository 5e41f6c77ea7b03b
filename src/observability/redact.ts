import { TroveError } from '../errors.js';

/** What replaces a secret in a log event. */
export const REDACTED = '[redacted]';

/**
 * Keys whose values are secrets whatever they hold. Deliberately broad: a
 * redacted harmless field costs a little debugging, a leaked key costs a
 * rotation (and logs are copied to places we do not control).
 */
const SECRET_KEY =
  /pass(word|wd|phrase)?$|secret|authori[sz]ation|token|credential|cookie|api[-_]?key|private[-_]?key|signature/i;

/** Signature-bearing query parameters of presigned URLs (S3 SigV4 and the local store). */
const SIGNED_QUERY =
  /([?&](?:X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token|X-Trove-Signature)=)[^&\s"'#]*/gi;

/** `scheme://user:password@host`: keeps the user, drops the password. */
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)[^\s@/]*@/gi;

/** Nesting beyond this is summarized: log events are for humans and indexes, not dumps. */
const MAX_DEPTH = 6;

/** True when a field of this name must never be logged in clear. */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/** Removes URL passwords and presigned-URL signatures from free text. */
export function redactString(text: string): string {
  return text.replace(URL_PASSWORD, `$1${REDACTED}@`).replace(SIGNED_QUERY, `$1${REDACTED}`);
}

/**
 * An error as a plain object: name, message, TroveError code and details,
 * the cause chain, and the stack only when asked (stacks are long and only
 * worth their bytes on errors and when debugging).
 */
export function serializeError(err: Error, withStack: boolean, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = { name: err.name, message: redactString(err.message) };
  if (err instanceof TroveError) {
    out.code = err.code;
    if (err.details) out.details = redactValue(err.details, withStack, depth + 1);
  } else {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' || typeof code === 'number') out.code = code;
  }
  if (withStack && err.stack) out.stack = redactString(err.stack);
  if (err.cause !== undefined && depth < MAX_DEPTH) {
    out.cause =
      err.cause instanceof Error
        ? serializeError(err.cause, withStack, depth + 1)
        : redactValue(err.cause, withStack, depth + 1);
  }
  return out;
}

/**
 * A JSON-safe copy of `value` with secrets removed: secret-named keys are
 * replaced, strings lose URL passwords and signatures, errors are serialized,
 * buffers summarized, cycles and deep nesting cut.
 */
export function redactValue(
  value: unknown,
  withStack = false,
  depth = 0,
  seen: WeakSet<object> = new WeakSet(),
): unknown {
  if (typeof value === 'string') return redactString(value);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'function' || typeof value === 'symbol') return undefined;
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (value instanceof Error) return serializeError(value, withStack, depth);
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return `[${value.length} bytes]`;
  if (value instanceof URL) return redactString(value.href);
  if (seen.has(value)) return '[circular]';
  if (depth >= MAX_DEPTH) return '[truncated]';
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((v) => redactValue(v, withStack, depth + 1, seen));
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      out[key] = isSecretKey(key) ? REDACTED : redactValue(v, withStack, depth + 1, seen);
    }
    return out;
  } finally {
    seen.delete(value);
  }
}
