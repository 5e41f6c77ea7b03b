import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { httpStatusOf, TroveError } from '../errors.js';
import type { JobQueue } from '../ports/job-queue.js';
import type {
  CommitEvent,
  MaterializeEvent,
  PacksMissingEvent,
  ServiceEvents,
} from '../services/deps.js';
import { withTimeout } from './health.js';

/** One finished HTTP request, as the request middleware measured it. */
export interface HttpObservation {
  /** Request method (anything unusual is counted as OTHER). */
  method: string;
  /** Route pattern (`/v1/storages/:storage`), never the raw path. */
  route: string;
  /** Response status. */
  status: number;
  /** Time from the request entering the app to the response being ready. */
  durationSeconds: number;
  /** Request Content-Length, or null when unknown. */
  bytesIn: number | null;
  /** Response Content-Length, or null when unknown (streamed). */
  bytesOut: number | null;
}

/**
 * The metrics of one app (or one worker process), in its own registry: tests
 * build many apps per process, and prom-client's global registry refuses a
 * second metric of the same name.
 */
export interface Metrics extends Required<ServiceEvents> {
  /** The registry to expose (`await registry.metrics()`, `registry.contentType`). */
  readonly registry: Registry;
  /** Records one HTTP request. */
  observeRequest(request: HttpObservation): void;
  /** Makes `trove_jobs` report this queue's counts at each scrape (replaces any earlier one). */
  trackQueue(queue: Pick<JobQueue, 'counts'>): void;
}

/** Options of `createMetrics`. */
export interface MetricsOptions {
  /** Queue whose job counts `trove_jobs` reports (also settable later with trackQueue). */
  queue?: Pick<JobQueue, 'counts'>;
  /** Register prom-client's process metrics (CPU, memory, event loop, GC) as trove_*. Default true. */
  processMetrics?: boolean;
}

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);
/** A scrape must answer even when the database hangs; the gauge is then left empty. */
const QUEUE_COUNT_TIMEOUT_MS = 2_000;

/** Creates a registry with every trove metric (see docs/observability.md). */
export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  const registers = [registry];
  if (options.processMetrics ?? true)
    collectDefaultMetrics({ register: registry, prefix: 'trove_' });

  const requests = new Counter({
    name: 'trove_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers,
  });
  const duration = new Histogram({
    name: 'trove_http_request_duration_seconds',
    help: 'Time to answer an HTTP request (until the response starts), by method and route.',
    labelNames: ['method', 'route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  });
  const bytesIn = new Counter({
    name: 'trove_http_request_bytes_total',
    help: 'Request body bytes (declared Content-Length), by route.',
    labelNames: ['route'] as const,
    registers,
  });
  const bytesOut = new Counter({
    name: 'trove_http_response_bytes_total',
    help: 'Response body bytes (Content-Length), by route.',
    labelNames: ['route'] as const,
    registers,
  });

  let queue = options.queue;
  new Gauge({
    name: 'trove_jobs',
    help: 'Background jobs by queue and state, read from the queue at scrape time.',
    labelNames: ['queue', 'state'] as const,
    registers,
    async collect() {
      this.reset();
      if (!queue) return;
      const counts = await withTimeout(queue.counts('materialize'), QUEUE_COUNT_TIMEOUT_MS).catch(
        () => null,
      );
      for (const [state, n] of Object.entries(counts ?? {})) {
        this.set({ queue: 'materialize', state }, n);
      }
    },
  });

  const commits = new Counter({
    name: 'trove_commits_total',
    help: 'Commit calls that finished: created, existing (version already stored), conflict, rejected, error.',
    labelNames: ['outcome'] as const,
    registers,
  });
  const logical = new Counter({
    name: 'trove_push_logical_bytes_total',
    help: 'Sum of file sizes of committed versions.',
    registers,
  });
  const uploaded = new Counter({
    name: 'trove_push_uploaded_bytes_total',
    help: 'Pack bytes uploaded by committed pushes (after dedup and compression).',
    registers,
  });
  let logicalSum = 0;
  let uploadedSum = 0;
  new Gauge({
    name: 'trove_dedup_ratio',
    help: 'Share of committed logical bytes that did not need uploading, 1 - uploaded/logical, since process start.',
    registers,
    collect() {
      this.set(logicalSum > 0 ? 1 - uploadedSum / logicalSum : 0);
    },
  });

  const materialized = new Counter({
    name: 'trove_materialize_total',
    help: 'Materialize jobs by archive format and outcome (built, skipped, failed).',
    labelNames: ['format', 'outcome'] as const,
    registers,
  });
  const materializeDuration = new Histogram({
    name: 'trove_materialize_duration_seconds',
    help: 'Wall time of materialize jobs that built or failed, by archive format.',
    labelNames: ['format'] as const,
    buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800],
    registers,
  });
  const materializeBytes = new Counter({
    name: 'trove_materialize_bytes_total',
    help: 'Bytes of archives built, by archive format.',
    labelNames: ['format'] as const,
    registers,
  });
  const packsMissing = new Counter({
    name: 'trove_packs_missing_total',
    help: 'Packs found absent from the object store and marked missing (lost data: alert on any increase).',
    registers,
  });

  return {
    registry,
    observeRequest(r) {
      const method = METHODS.has(r.method) ? r.method : 'OTHER';
      requests.inc({ method, route: r.route, status: String(r.status) });
      duration.observe({ method, route: r.route }, r.durationSeconds);
      if (r.bytesIn) bytesIn.inc({ route: r.route }, r.bytesIn);
      if (r.bytesOut) bytesOut.inc({ route: r.route }, r.bytesOut);
    },
    trackQueue(next) {
      queue = next;
    },
    commitSucceeded(e: CommitEvent) {
      commits.inc({ outcome: e.created ? 'created' : 'existing' });
      logical.inc(e.logicalBytes);
      uploaded.inc(e.uploadedBytes);
      logicalSum += e.logicalBytes;
      uploadedSum += e.uploadedBytes;
    },
    commitFailed(error: unknown) {
      commits.inc({ outcome: failureOutcome(error) });
    },
    materializeFinished(e: MaterializeEvent) {
      materialized.inc({ format: e.format, outcome: e.outcome });
      if (e.outcome !== 'skipped')
        materializeDuration.observe({ format: e.format }, e.durationSeconds);
      if (e.bytes > 0) materializeBytes.inc({ format: e.format }, e.bytes);
    },
    packsMissing(e: PacksMissingEvent) {
      packsMissing.inc(e.packs.length);
    },
  };
}

/** conflict: head moved; rejected: the client's data or request was refused; error: our fault. */
function failureOutcome(error: unknown): 'conflict' | 'rejected' | 'error' {
  if (!(error instanceof TroveError)) return 'error';
  if (error.code === 'head_conflict') return 'conflict';
  return httpStatusOf(error.code) < 500 ? 'rejected' : 'error';
}
