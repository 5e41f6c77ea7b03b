import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { httpStatusOf, TroveError } from '../errors.js';

/**
 * The one place errors become HTTP responses: a TroveError keeps its code and
 * maps to its status; anything else is a bug, logged and answered 500 without
 * leaking internals.
 */
export function errorResponse(err: unknown, c: Context): Response {
  if (err instanceof TroveError) {
    return c.json(err.toJSON(), httpStatusOf(err.code) as ContentfulStatusCode);
  }
  console.error('trove: unhandled error', c.req.method, c.req.path, err);
  return c.json(new TroveError('internal', 'internal server error').toJSON(), 500);
}

/** Unknown routes get their own code, so a client can tell a typo from a missing storage. */
export function notFoundResponse(c: Context): Response {
  return errorResponse(
    new TroveError('route_not_found', `no route ${c.req.method} ${c.req.path}`),
    c,
  );
}
