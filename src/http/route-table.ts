import type { Context, Hono, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { z } from 'zod';
import { LIMITS, sessionIdSchema, storageNameSchema, versionRefSchema } from '../api/schemas.js';
import { TroveError } from '../errors.js';
import { concurrencyCap } from './concurrency.js';
import type { AppEnv } from './env.js';
import { jsonBody, param } from './validate.js';

/**
 * One route, written once: the app registers it (mountRoutes) and the
 * OpenAPI document describes it (openapi.ts) from this same entry.
 */
export interface Route<
  P extends string = string,
  Q extends z.ZodType = z.ZodType,
  B extends z.ZodType = z.ZodType,
  J extends z.ZodType = z.ZodType,
> {
  /** HTTP method; every POST gets the JSON body limit. */
  method: 'get' | 'post';
  /** Path in OpenAPI form (`/v1/storages/{storage}`); each `{name}` is one of PATH_PARAMS. */
  path: P;
  /** One line for the document. */
  summary: string;
  /** Query schema, validated before the handler runs. */
  query?: Q;
  /** JSON body schema, validated before the handler runs. */
  body?: B;
  /** Schema of every JSON answer listed in `responses`; none for routes that answer bytes. */
  json?: J;
  /** Expensive: goes through the per-process concurrency cap (429 busy). */
  capped?: boolean;
  /** Successful answers by status, described (with the `json` schema when there is one). */
  responses: Record<number, string>;
  /** Error answers worth a line of their own (body: the error schema). */
  errors?: Record<number, string>;
  /** Validated input → one service call → the answer (a `json` body, or a Response for bytes). */
  handle(c: Context<AppEnv>, input: RouteInput<P, Q, B>): Promise<Answer<J>> | Answer<J>;
  /** The status of a JSON answer (default 200). */
  status?(body: z.output<J>): 200 | 201 | 202 | 503;
}

/** What a handler answers: a body of the route's `json` type, or a finished Response. */
export type Answer<J extends z.ZodType> = z.output<J> | Response;

/** A handler's validated input. */
export interface RouteInput<P extends string, Q extends z.ZodType, B extends z.ZodType> {
  /** The path parameters, validated. */
  params: Record<ParamNames<P>, string>;
  /** The query, validated (undefined when the route has none). */
  query: z.output<Q>;
  /** The JSON body, validated (undefined when the route has none). */
  body: z.output<B>;
}

/** The `{name}` parameters of a path. */
type ParamNames<P extends string> = P extends `${string}{${infer N}}${infer Rest}`
  ? N | ParamNames<Rest>
  : never;

/** Every path parameter of the API: its schema and what errors call it. */
export const PATH_PARAMS: Record<string, { label: string; schema: z.ZodType<string> }> = {
  storage: { label: 'storage name', schema: storageNameSchema },
  ref: { label: 'version reference', schema: versionRefSchema },
  session: { label: 'session id', schema: sessionIdSchema },
};

/** The parameter names of a path, in order; an unknown one is a programming error. */
export function pathParams(path: string): string[] {
  const names = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? '');
  for (const name of names) {
    if (PATH_PARAMS[name] === undefined) throw new Error(`${path}: unknown path parameter ${name}`);
  }
  return names;
}

/** Types one table entry (inferring its input and answer types) and erases it for the table. */
export function route<
  P extends string,
  Q extends z.ZodType = z.ZodUndefined,
  B extends z.ZodType = z.ZodUndefined,
  J extends z.ZodType = z.ZodNever,
>(r: Route<P, Q, B, J>): Route {
  return r;
}

const limitBody = bodyLimit({
  maxSize: LIMITS.maxBodyBytes,
  onError: (c) =>
    c.json(
      new TroveError(
        'payload_too_large',
        `request body is larger than ${LIMITS.maxBodyBytes} bytes`,
        { limit: LIMITS.maxBodyBytes },
      ).toJSON(),
      413,
    ),
});

/**
 * Registers the routes: capped ones behind one shared concurrency cap (the
 * cap refuses before the body is read), every POST behind the body limit,
 * then path parameters, query and body are validated in that order and the
 * handler's answer is sent.
 */
export function mountRoutes(app: Hono<AppEnv>, routes: Route[], maxExpensive: number): void {
  const capped = concurrencyCap(maxExpensive);
  for (const r of routes) {
    const names = pathParams(r.path);
    const handler: MiddlewareHandler<AppEnv> = async (c) => {
      const params: Record<string, string> = {};
      for (const name of names) {
        const p = PATH_PARAMS[name];
        if (p) params[name] = param(p.label, p.schema, c.req.param(name));
      }
      const query = r.query ? param('query', r.query, c.req.query()) : undefined;
      const body = r.body ? await jsonBody(c, r.body) : undefined;
      const answer = await r.handle(c, { params, query, body });
      if (answer instanceof Response) return answer;
      return c.json(answer as object, r.status?.(answer) ?? 200);
    };
    const before = [...(r.capped ? [capped] : []), ...(r.method === 'post' ? [limitBody] : [])];
    app.on(r.method.toUpperCase(), [r.path.replace(/\{(\w+)\}/g, ':$1')], ...before, handler);
  }
}
