import type { Logger } from '../observability/logger.js';

/** Hono environment of the trove app: what middleware puts on the context. */
export interface AppEnv {
  /** Per-request variables. */
  Variables: {
    /** The tenant this request acts for (set by the tenant middleware). */
    tenant: string;
    /** This request's id: the caller's X-Request-Id when sane, else a fresh UUID. */
    requestId: string;
    /** The app logger bound to this request's id (set by the request middleware). */
    log: Logger;
  };
}
