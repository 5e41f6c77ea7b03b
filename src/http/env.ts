/** Hono environment of the trove app: what middleware puts on the context. */
export interface AppEnv {
  /** Per-request variables. */
  Variables: {
    /** The tenant this request acts for (set by the tenant middleware). */
    tenant: string;
  };
}
