import { z } from 'zod';
import type { Readiness } from '../observability/health.js';
import type { Metrics } from '../observability/metrics.js';
import { type Route, route } from './route-table.js';

const checkState = z.enum(['ok', 'failed', 'timeout']);
const readinessSchema = z.object({
  ok: z.boolean(),
  draining: z.literal(true).optional(),
  checks: z.object({ database: checkState.optional(), blobs: checkState.optional() }),
  reasons: z.object({ database: z.string().optional(), blobs: z.string().optional() }).optional(),
});

/** What the operational routes read. */
export interface OpsDeps {
  /** Runs the readiness checks (bounded in time). */
  readiness(): Promise<Readiness>;
  /** The registry served at /metrics. */
  metrics: Metrics;
  /** The OpenAPI document of every route the app serves. */
  document(): unknown;
}

/** Probes, metrics and the API's own description: entries of the same route table as v1. */
export function opsRoutes(deps: OpsDeps): Route[] {
  return [
    // Liveness: the process answers. Never touches a backend, so a database
    // outage does not make an orchestrator restart every API process.
    route({
      method: 'get',
      path: '/healthz',
      summary: 'Liveness probe',
      json: z.object({ ok: z.literal(true) }),
      responses: { 200: 'alive' },
      handle: () => ({ ok: true as const }),
    }),
    // Readiness: this process can serve traffic now.
    route({
      method: 'get',
      path: '/readyz',
      summary: 'Readiness probe: database and object storage reachable, not shutting down',
      json: readinessSchema,
      responses: { 200: 'ready', 503: 'not ready (a check failed, or draining)' },
      handle: async (c) => {
        const ready = await deps.readiness();
        if (!ready.ok && !ready.draining) c.var.log.warn('not ready', { ...ready });
        return ready;
      },
      status: (ready) => (ready.ok ? 200 : 503),
    }),
    route({
      method: 'get',
      path: '/metrics',
      summary: 'Prometheus metrics (text exposition format)',
      responses: { 200: 'metrics, see docs/observability.md' },
      handle: async (c) =>
        c.body(await deps.metrics.registry.metrics(), 200, {
          'content-type': deps.metrics.registry.contentType,
        }),
    }),
    route({
      method: 'get',
      path: '/openapi.json',
      summary: 'This document',
      responses: { 200: 'OpenAPI 3.1 document' },
      handle: (c) => c.json(deps.document()),
    }),
  ];
}
