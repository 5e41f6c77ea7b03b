import { redactString } from './redact.js';

/** Default time each readiness check may take before it counts as failed. */
export const READY_TIMEOUT_MS = 2_000;

/** What readiness looks at: the two backends and the shutdown flag. */
export interface ReadinessDeps {
  /** The database; `ping()` throws when it cannot be reached. */
  metadata: { ping(): Promise<void> };
  /** Object storage; `ping()` throws when it cannot be reached. */
  blobs: { ping(): Promise<void> };
  /** True once graceful shutdown has begun (the process must get no new traffic). */
  draining?: (() => boolean) | undefined;
}

/** State of one readiness check. */
export type CheckState = 'ok' | 'failed' | 'timeout';

/** The /readyz body. */
export interface Readiness {
  /** True when the process should receive traffic. */
  ok: boolean;
  /** True when shutdown has begun (checks are then skipped). */
  draining?: true;
  /** Each check's state. */
  checks: { database?: CheckState; blobs?: CheckState };
  /** Why each failed check failed (error messages, secrets redacted). */
  reasons?: { database?: string; blobs?: string };
}

/**
 * Runs the readiness checks in parallel, each bounded by `timeoutMs`, so a
 * hung backend makes the probe fail fast instead of piling up probes.
 */
export async function checkReadiness(
  deps: ReadinessDeps,
  timeoutMs = READY_TIMEOUT_MS,
): Promise<Readiness> {
  if (deps.draining?.()) return { ok: false, draining: true, checks: {} };
  const [database, blobs] = await Promise.all([
    runCheck(() => deps.metadata.ping(), timeoutMs),
    runCheck(() => deps.blobs.ping(), timeoutMs),
  ]);
  const out: Readiness = {
    ok: database.state === 'ok' && blobs.state === 'ok',
    checks: { database: database.state, blobs: blobs.state },
  };
  const reasons: Readiness['reasons'] = {};
  if (database.reason !== undefined) reasons.database = database.reason;
  if (blobs.reason !== undefined) reasons.blobs = blobs.reason;
  if (!out.ok) out.reasons = reasons;
  return out;
}

async function runCheck(
  check: () => Promise<void>,
  timeoutMs: number,
): Promise<{ state: CheckState; reason?: string }> {
  try {
    await withTimeout(check(), timeoutMs);
    return { state: 'ok' };
  } catch (err) {
    if (err instanceof TimeoutError) return { state: 'timeout', reason: err.message };
    const message = err instanceof Error ? err.message : String(err);
    return { state: 'failed', reason: redactString(message).slice(0, 500) };
  }
}

/** Raised by withTimeout. */
export class TimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

/** `promise`, or a TimeoutError after `ms` (the promise itself keeps running). */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
