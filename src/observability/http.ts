import type { Context, MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';

/** Header carrying the request id both ways (proxies and clients may set it). */
export const REQUEST_ID_HEADER = 'X-Request-Id';

/** A caller's id is kept only when it cannot smuggle anything into logs or labels. */
const SANE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Label of requests no route matched: raw paths would make label values unbounded. */
export const UNMATCHED_ROUTE = 'unmatched';

/** Unsized bodies small enough to measure by buffering (never an event stream or a download). */
const MEASURABLE = /^(application\/json|text\/plain)/;

/** Routes probed every few seconds; their access lines go out at debug, not info. */
const PROBE_ROUTES = new Set(['/healthz', '/readyz', '/metrics']);

/** The caller's request id when it is a sane token, else a fresh random UUID. */
export function requestIdFrom(header: string | undefined): string {
  return header !== undefined && SANE_ID.test(header) ? header : crypto.randomUUID();
}

/**
 * The context variables this middleware sets; the app's environment
 * (src/http/env.ts) extends it, so observability never imports the HTTP layer.
 */
export interface ObservedEnv {
  /** Per-request variables. */
  Variables: {
    /** This request's id: the caller's X-Request-Id when sane, else a fresh UUID. */
    requestId: string;
    /** The app logger bound to this request's id. */
    log: Logger;
    /** The tenant, once a later middleware has decided it (logged when set). */
    tenant?: string;
  };
}

/** Options of `requestObservability`. */
export interface RequestObservabilityOptions {
  /** The app logger; each request gets a child bound to its id. */
  logger: Logger;
  /** Where request counters and latencies go, if anywhere. */
  metrics?: Metrics | undefined;
}

/**
 * First middleware of the app: decides the request id (echoed in the
 * X-Request-Id response header), puts `requestId` and a request-bound `log`
 * on the context, and when the response is ready writes one access-log line
 * and records the request's metrics, labelled by route pattern.
 */
export function requestObservability(
  options: RequestObservabilityOptions,
): MiddlewareHandler<ObservedEnv> {
  const { logger, metrics } = options;
  return async (c, next) => {
    const started = performance.now();
    const requestId = requestIdFrom(c.req.header(REQUEST_ID_HEADER));
    c.set('requestId', requestId);
    c.set('log', logger.child({ requestId }));
    await next();
    c.header(REQUEST_ID_HEADER, requestId);
    const durationSeconds = (performance.now() - started) / 1000;
    const route = routeOf(c);
    const status = c.res.status;
    const bytesIn = lengthOf(c.req.header('content-length'));
    const bytesOut = await responseLength(c);
    metrics?.observeRequest({
      method: c.req.method,
      route,
      status,
      durationSeconds,
      bytesIn,
      bytesOut,
    });
    const level = status >= 500 ? 'warn' : PROBE_ROUTES.has(route) ? 'debug' : 'info';
    c.var.log[level]('request', {
      method: c.req.method,
      route,
      path: c.req.path,
      status,
      durationMs: Math.round(durationSeconds * 10_000) / 10,
      bytesIn,
      bytesOut,
      tenant: c.get('tenant') ?? null,
    });
  };
}

/**
 * The pattern of the handler that answered. After `next()` Hono's route index
 * points at the last handler run; when that is a '*' middleware, no route
 * matched (a 404 from the not-found handler).
 */
function routeOf(c: Context<ObservedEnv>): string {
  const route = routePath(c);
  return route === '' || route === '*' || route === '/*' ? UNMATCHED_ROUTE : route;
}

/**
 * The response body size. Streams (blob downloads) carry Content-Length;
 * JSON and text answers from `c.json` do not, but they are small by design
 * (invariant 4), so they are buffered once to measure and sized explicitly.
 */
async function responseLength(c: Context<ObservedEnv>): Promise<number | null> {
  if (c.res.body === null) return 0;
  const declared = lengthOf(c.res.headers.get('content-length'));
  if (declared !== null) return declared;
  if (!MEASURABLE.test(c.res.headers.get('content-type') ?? '')) return null;
  const bytes = await c.res.arrayBuffer();
  c.res = new Response(bytes, c.res);
  c.header('content-length', String(bytes.byteLength));
  return bytes.byteLength;
}

function lengthOf(header: string | null | undefined): number | null {
  return header != null && /^\d+$/.test(header) ? Number(header) : null;
}
