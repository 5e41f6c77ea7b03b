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

/** 404 for routes that do not exist, in the same error shape. */
export function notFoundResponse(c: Context): Response {
  return c.json(
    new TroveError('invalid_request', `no route ${c.req.method} ${c.req.path}`).toJSON(),
    404,
  );
}
