import type { ObservedEnv } from '../observability/http.js';

/** Hono environment of the trove app: what middleware puts on the context. */
export interface AppEnv {
  /** Per-request variables: those of the request middleware, plus the tenant. */
  Variables: Omit<ObservedEnv['Variables'], 'tenant'> & {
    /** The tenant this request acts for (set by the tenant middleware). */
    tenant: string;
  };
}
