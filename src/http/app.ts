import { Hono } from 'hono';
import type { LocalBlobStore } from '../adapters/blob/local/local-blob-store.js';
import { localBlobRoutes } from '../adapters/blob/local/routes.js';
import type { ServiceConfig } from '../config.js';
import type { ServiceDeps } from '../services/deps.js';
import type { AppEnv } from './env.js';
import { errorResponse, notFoundResponse } from './errors.js';
import { openApiDocument } from './openapi.js';
import { v1Routes } from './routes.js';

/** Everything the app needs; `localBlobs` mounts the signed blob routes (embedded mode). */
export interface AppDeps extends ServiceDeps {
  /** Service settings plus the tenant every request acts for (default 'default'). */
  config: ServiceConfig & { tenant?: string };
  /** The local blob store whose signed URLs this app must serve, if any. */
  localBlobs?: LocalBlobStore | undefined;
}

/** Builds the HTTP app without listening (tests call `app.request`). */
export function createApp(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const tenant = deps.config.tenant ?? 'default';
  app.onError(errorResponse);
  app.notFound(notFoundResponse);

  // The one place the tenant is decided; authentication will replace this.
  app.use('*', async (c, next) => {
    c.set('tenant', tenant);
    await next();
  });

  app.get('/healthz', (c) => c.json({ ok: true }));
  let openapi: unknown;
  app.get('/openapi.json', (c) => {
    openapi ??= openApiDocument();
    return c.json(openapi);
  });
  app.route('/v1', v1Routes(deps));
  if (deps.localBlobs) app.route('/', localBlobRoutes(deps.localBlobs));
  return app;
}
