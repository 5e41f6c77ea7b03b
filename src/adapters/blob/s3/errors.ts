import { TroveError } from '../../../errors.js';

/** What trove reads of an SDK error: its name (S3 error code) and HTTP status. */
export function s3ErrorInfo(err: unknown): { name: string; status: number | undefined } {
  if (typeof err !== 'object' || err === null) return { name: String(err), status: undefined };
  const e = err as { name?: unknown; Code?: unknown; $metadata?: { httpStatusCode?: unknown } };
  const status = e.$metadata?.httpStatusCode;
  const name = typeof e.Code === 'string' ? e.Code : typeof e.name === 'string' ? e.name : 'Error';
  return { name, status: typeof status === 'number' ? status : undefined };
}

/** True for "no such object" answers (GetObject says NoSuchKey, HeadObject only 404). */
export function isNotFound(err: unknown): boolean {
  const { name, status } = s3ErrorInfo(err);
  return name === 'NoSuchKey' || name === 'NotFound' || (status === 404 && name !== 'NoSuchBucket');
}

const CREDENTIAL_ERRORS = new Set([
  'AccessDenied',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'InvalidToken',
]);

/**
 * Turns an SDK failure into a TroveError. Configuration faults (missing bucket,
 * rejected credentials) are `invalid_config` so an operator sees what to fix;
 * everything else (throttling, 5xx, resets, timeouts) is `unavailable`.
 */
export function mapS3Error(
  err: unknown,
  context: { op: string; bucket: string; endpoint: string },
): TroveError {
  if (err instanceof TroveError) return err;
  const { name, status } = s3ErrorInfo(err);
  const message = err instanceof Error ? err.message : String(err);
  const where = `bucket ${context.bucket} at ${context.endpoint}`;
  const cause = { cause: err };
  if (name === 'NoSuchBucket') {
    return new TroveError(
      'invalid_config',
      `S3 bucket ${context.bucket} does not exist at ${context.endpoint}; create it`,
      { bucket: context.bucket },
      cause,
    );
  }
  if (name === 'CredentialsProviderError') {
    return new TroveError(
      'invalid_config',
      `no S3 credentials found for bucket ${context.bucket}: set TROVE_S3_ACCESS_KEY_ID and TROVE_S3_SECRET_ACCESS_KEY, or provide AWS credentials (AWS_* variables, a profile, an instance role)`,
      { bucket: context.bucket },
      cause,
    );
  }
  if (CREDENTIAL_ERRORS.has(name) || status === 403 || status === 401) {
    return new TroveError(
      'invalid_config',
      `S3 credentials rejected by ${context.endpoint} for bucket ${context.bucket} (${name})`,
      { bucket: context.bucket },
      cause,
    );
  }
  if (status === undefined) {
    return new TroveError(
      'unavailable',
      `S3 ${context.op} against ${context.endpoint} failed (no HTTP answer): ${message}`,
      undefined,
      cause,
    );
  }
  return new TroveError(
    'unavailable',
    `S3 ${context.op} on ${where} failed: ${name} (HTTP ${status})`,
    { status, s3Code: name },
    cause,
  );
}
