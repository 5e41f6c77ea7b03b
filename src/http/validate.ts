import type { Context } from 'hono';
import type { z } from 'zod';
import { TroveError } from '../errors.js';

function invalid(what: string, error: z.ZodError): TroveError {
  return new TroveError('invalid_request', `invalid ${what}: ${error.issues[0]?.message ?? ''}`, {
    issues: error.issues.map((i) => ({
      path: i.path.map(String),
      message: i.message,
      code: i.code,
    })),
  });
}

/** Parses the JSON body with a zod schema; invalid JSON or shape → 400 invalid_request. */
export async function jsonBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  let raw: unknown;
  try {
    raw = await c.req.json();
  } catch (err) {
    if (err instanceof TroveError) throw err;
    throw new TroveError('invalid_request', 'request body is not valid JSON');
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw invalid('request body', parsed.error);
  return parsed.data;
}

/** Validates one path or query parameter (or a record of them). */
export function param<S extends z.ZodType>(what: string, schema: S, value: unknown): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw invalid(what, parsed.error);
  return parsed.data;
}
