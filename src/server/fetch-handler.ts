import type { Hono } from 'hono';
import { loadServerConfig, type ServerConfig, serviceConfig } from '../config.js';
import { TroveError, toTroveError } from '../errors.js';
import { createApp } from '../http/app.js';
import type { AppEnv } from '../http/env.js';
import type { Logger } from '../observability/logger.js';
import { createMetrics } from '../observability/metrics.js';
import { openBackends } from './backends.js';
import { processLogger } from './process-logger.js';

/** The API as a fetch handler, with its open connections. */
export interface OpenFetchHandler {
  /** The Hono app (for platform adapters such as `hono/aws-lambda`'s `handle`). */
  app: Hono<AppEnv>;
  /** Standard fetch handler: `Request` in, `Response` out. */
  fetch: (request: Request) => Promise<Response>;
  /** Closes the database pool and the job queue. */
  close(): Promise<void>;
}

/**
 * Opens the API without a listening socket, for serverless platforms and
 * embedding. It needs PostgreSQL and S3 (a function instance keeps nothing
 * between invocations) and runs no worker: `trove worker` runs elsewhere.
 */
export async function openFetchHandler(
  options: {
    config?: ServerConfig;
    env?: Record<string, string | undefined>;
    logger?: Logger;
  } = {},
): Promise<OpenFetchHandler> {
  const config = options.config ?? loadServerConfig({}, options.env ?? process.env);
  if (config.s3 === undefined) {
    throw new TroveError(
      'invalid_config',
      'the fetch handler stores blobs in S3: set TROVE_S3_BUCKET (local disk does not outlive a function instance)',
      { setting: 's3Bucket' },
    );
  }
  const logger = options.logger ?? processLogger(config, 'api');
  const backends = await openBackends(config, 'fetch-handler', logger);
  const app = createApp({
    ...backends,
    config: { ...serviceConfig(config), tenant: config.tenant },
    logger,
    metrics: createMetrics(),
  });
  return {
    app,
    fetch: async (request) => app.fetch(request),
    close: () => backends.close(config.shutdownGraceSeconds * 1000),
  };
}

/**
 * A fetch handler that opens its backends on the first request and keeps
 * them for the life of the instance. A failed start (database down) answers
 * that request with 503 and the error's JSON, and is tried
 * again on the next request instead of poisoning the instance.
 */
export function createFetchHandler(
  options: { env?: Record<string, string | undefined>; logger?: Logger } = {},
): (request: Request) => Promise<Response> {
  let opening: Promise<OpenFetchHandler> | undefined;
  return async (request) => {
    opening ??= openFetchHandler(options);
    let handler: OpenFetchHandler;
    try {
      handler = await opening;
    } catch (err) {
      opening = undefined;
      // 503 whatever the cause: the instance is not ready, the request itself was fine.
      return Response.json(toTroveError(err).toJSON(), { status: 503 });
    }
    return handler.fetch(request);
  };
}
