import { Hono } from 'hono';
import { checkReadiness, READY_TIMEOUT_MS } from '../observability/health.js';
import { requestObservability } from '../observability/http.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { createMetrics, type Metrics } from '../observability/metrics.js';
import type { ServiceConfig } from '../services/config.js';
import type { ServiceDeps } from '../services/deps.js';
import type { AppEnv } from './env.js';
import { errorResponse, notFoundResponse } from './errors.js';
import { openApiDocument } from './openapi.js';
import { opsRoutes } from './ops-routes.js';
import { mountRoutes, type Route } from './route-table.js';
import { v1Routes } from './routes.js';

/**
 * Everything the app needs. The app knows only ports: a blob store that
 * serves its own signed URLs (the local store) hands its routes in as
 * `blobRoutes`, mounted by whoever assembles the process (src/server).
 */
export interface AppDeps extends ServiceDeps {
  /** Service settings plus the tenant every request acts for (default 'default'). */
  config: ServiceConfig & { tenant?: string };
  /** Routes serving the blob store's signed URLs, when trove serves them itself (embedded mode). */
  blobRoutes?: Hono | undefined;
  /** Access and error logs (default: warnings and errors as JSON on stderr). */
  logger?: Logger | undefined;
  /** Metrics served at /metrics (default: a fresh registry for this app). */
  metrics?: Metrics | undefined;
  /** Returns true once graceful shutdown has begun: /readyz then answers 503. */
  draining?: (() => boolean) | undefined;
  /** Time each readiness check may take (default 2 s). */
  readyTimeoutMs?: number | undefined;
}

/** Builds the HTTP app without listening (tests call `app.request`). */
export function createApp(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const tenant = deps.config.tenant ?? 'default';
  const logger = deps.logger ?? createLogger({ level: 'warn' });
  const metrics = deps.metrics ?? createMetrics();
  metrics.trackQueue(deps.queue);
  // Explicit listeners win; otherwise the services report to this app's metrics.
  const services: ServiceDeps = { ...deps, events: deps.events ?? metrics };
  app.onError(errorResponse);
  app.notFound(notFoundResponse);

  app.use('*', requestObservability({ logger, metrics }));
  // The one place the tenant is decided; authentication will replace this.
  app.use('*', async (c, next) => {
    c.set('tenant', tenant);
    await next();
  });

  // One table: the app registers these routes and /openapi.json describes the same entries.
  let openapi: unknown;
  const routes: Route[] = [
    ...opsRoutes({
      readiness: () => checkReadiness(deps, deps.readyTimeoutMs ?? READY_TIMEOUT_MS),
      metrics,
      document: () => {
        openapi ??= openApiDocument(routes);
        return openapi;
      },
    }),
    ...v1Routes(services),
  ];
  mountRoutes(app, routes, deps.config.maxExpensiveRequests);
  if (deps.blobRoutes) app.route('/', deps.blobRoutes);
  return app;
}
