import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { httpStatusOf, TroveError } from '../errors.js';
import { createLogger, type Logger } from '../observability/logger.js';
import type { AppEnv } from './env.js';

/** Used only when the request middleware did not run (an error raised before it). */
const fallback = createLogger({ level: 'warn' });

/**
 * The one place errors become HTTP responses: a TroveError keeps its code and
 * maps to its status; anything else is a bug, logged with the request id and
 * answered 500 without leaking internals. The 500 body carries the request id
 * in `details` so a user can quote it; other errors have it in X-Request-Id.
 */
export function errorResponse(err: unknown, c: Context<AppEnv>): Response {
  const known = err instanceof TroveError;
  const status = known ? httpStatusOf(err.code) : 500;
  // 4xx are the client's business (the access log has them); 5xx are ours.
  if (status >= 500) {
    const log = (c.get('log') as Logger | undefined) ?? fallback;
    log.error(known ? 'request failed' : 'unhandled error', {
      method: c.req.method,
      path: c.req.path,
      err,
    });
  }
  if (known) {
    const retryAfter = err.details?.retryAfterSeconds;
    if (typeof retryAfter === 'number') c.header('retry-after', String(retryAfter));
    return c.json(err.toJSON(), status as ContentfulStatusCode);
  }
  const requestId = c.get('requestId') as string | undefined;
  const details = requestId !== undefined ? { requestId } : undefined;
  return c.json(new TroveError('internal', 'internal server error', details).toJSON(), 500);
}

/** Unknown routes get their own code, so a client can tell a typo from a missing storage. */
export function notFoundResponse(c: Context<AppEnv>): Response {
  return errorResponse(
    new TroveError('route_not_found', `no route ${c.req.method} ${c.req.path}`),
    c,
  );
}
