import type { MiddlewareHandler } from 'hono';
import { TroveError } from '../errors.js';
import type { AppEnv } from './env.js';

/** Seconds a refused client is told to wait (the expensive routes answer within about a second). */
export const BUSY_RETRY_AFTER_SECONDS = 1;

/**
 * Caps the expensive requests (commit, plan, missing, missing-packs, manifest delta) one
 * process serves at once: one more is refused at once with `busy` (429,
 * `Retry-After`), before it reads its body or touches a backend, so a flood
 * of them costs a counter each instead of CPU and database time. Refusing
 * rather than queueing keeps no request waiting in memory and lets the client
 * back off (the SDK honours Retry-After). Per process, like the API's other
 * state: N processes serve N times the cap.
 */
export function concurrencyCap(limit: number): MiddlewareHandler<AppEnv> {
  let active = 0;
  return async (_c, next) => {
    if (active >= limit) {
      throw new TroveError('busy', `the server is busy (${limit} expensive requests running)`, {
        retryAfterSeconds: BUSY_RETRY_AFTER_SECONDS,
      });
    }
    active++;
    try {
      await next();
    } finally {
      active--;
    }
  };
}
