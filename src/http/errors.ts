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

/**
 * Unknown routes: invalid_request like any other malformed request, so the
 * status still comes from the code alone (there is no route-level 404 code).
 */
export function notFoundResponse(c: Context): Response {
  return errorResponse(
    new TroveError('invalid_request', `no route ${c.req.method} ${c.req.path}`),
    c,
  );
}
