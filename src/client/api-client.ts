import type { z } from 'zod';
import {
  type CommitResponse,
  commitResponse,
  type ListStoragesResponse,
  type ListVersionsResponse,
  listStoragesResponse,
  listVersionsResponse,
  missingChunksResponse,
  missingPacksResponse,
  type PlanResponse,
  type PresignedRequestBody,
  type PresignPacksResponse,
  planResponse,
  presignPacksResponse,
  type StartUploadRequest,
  type StartUploadResponse,
  type StorageSummary,
  startUploadResponse,
  storageSchema,
  type VersionDetail,
  versionDetailSchema,
} from '../api/schemas.js';
import { delay } from '../core/concurrency.js';
import { isErrorCode, TroveError } from '../errors.js';

/** Options of a TroveClient. */
export interface TroveClientOptions {
  /** API base URL, e.g. http://127.0.0.1:7070 */
  baseUrl: string;
  /** Bearer token, sent on API calls (not on presigned URLs). */
  token?: string;
  /** Attempts for idempotent requests and presigned transfers (default 4). */
  retries?: number;
  /**
   * Time a request may spend waiting on `429 busy` answers beyond its
   * attempts (default 60 s): the server said when to come back, so each
   * such wait costs no attempt until this budget is spent.
   */
  busyWaitMs?: number;
  /** Counts every HTTP request made, for reports and benchmarks. */
  onRequest?: (kind: 'api' | 'blob', method: string) => void;
}

/** Statuses worth retrying: the request may succeed later. */
const RETRYABLE = new Set([408, 429, 500, 502, 503, 504]);
/** Codes that a retry cannot fix, whatever their status (a full disk stays full). */
const FINAL_CODES: ReadonlySet<string> = new Set(['storage_full']);

/**
 * Typed client of the v1 API. Every method throws TroveError: server errors
 * keep their stable code; transport failures become `unreachable`.
 */
export class TroveClient {
  readonly baseUrl: string;
  private readonly token: string | undefined;
  private readonly retries: number;
  private readonly busyWaitMs: number;
  private readonly onRequest: TroveClientOptions['onRequest'];
  private readonly requestListeners = new Set<(kind: 'api' | 'blob', method: string) => void>();

  constructor(options: TroveClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.token = options.token;
    this.retries = options.retries ?? 4;
    this.busyWaitMs = options.busyWaitMs ?? 60_000;
    this.onRequest = options.onRequest;
  }

  // Every API call takes an optional AbortSignal last: it cancels the request
  // in flight and any retry back-off, rejecting with the signal's reason.

  listStorages(
    cursor?: string,
    limit?: number,
    signal?: AbortSignal,
  ): Promise<ListStoragesResponse> {
    return this.api('GET', `/v1/storages${query({ cursor, limit })}`, listStoragesResponse, {
      signal,
    });
  }

  getStorage(storage: string, signal?: AbortSignal): Promise<StorageSummary> {
    return this.api('GET', `/v1/storages/${enc(storage)}`, storageSchema, { signal });
  }

  listVersions(
    storage: string,
    page: { cursor?: string; limit?: number } = {},
    signal?: AbortSignal,
  ): Promise<ListVersionsResponse> {
    return this.api(
      'GET',
      `/v1/storages/${enc(storage)}/versions${query(page)}`,
      listVersionsResponse,
      { signal },
    );
  }

  getVersion(storage: string, ref: string, signal?: AbortSignal): Promise<VersionDetail> {
    return this.api(
      'GET',
      `/v1/storages/${enc(storage)}/versions/${enc(ref)}`,
      versionDetailSchema,
      { signal },
    );
  }

  startUpload(
    storage: string,
    body: StartUploadRequest,
    signal?: AbortSignal,
  ): Promise<StartUploadResponse> {
    return this.api('POST', `/v1/storages/${enc(storage)}/uploads`, startUploadResponse, {
      body,
      signal,
    });
  }

  async missingChunks(session: string, digests: string[], signal?: AbortSignal): Promise<string[]> {
    const res = await this.api(
      'POST',
      `/v1/uploads/${enc(session)}/missing`,
      missingChunksResponse,
      { body: { digests }, signal },
    );
    return res.missing;
  }

  presignPacks(
    session: string,
    packs: { id: string; size: number }[],
    signal?: AbortSignal,
  ): Promise<PresignPacksResponse> {
    return this.api('POST', `/v1/uploads/${enc(session)}/packs`, presignPacksResponse, {
      body: { packs },
      signal,
    });
  }

  /** One commit call; the caller repeats while the answer is 'verifying'. */
  commit(session: string, signal?: AbortSignal): Promise<CommitResponse> {
    return this.api('POST', `/v1/uploads/${enc(session)}/commit`, commitResponse, {
      body: {},
      signal,
    });
  }

  /** Tells the server these packs answered 404; it checks and returns the ones really gone. */
  async missingPacks(
    storage: string,
    version: string,
    packs: string[],
    signal?: AbortSignal,
  ): Promise<string[]> {
    const res = await this.api(
      'POST',
      `/v1/storages/${enc(storage)}/versions/${enc(version)}/missing-packs`,
      missingPacksResponse,
      { body: { packs }, signal },
    );
    return res.missing;
  }

  plan(
    storage: string,
    version: string,
    digests: string[],
    signal?: AbortSignal,
  ): Promise<PlanResponse> {
    return this.api(
      'POST',
      `/v1/storages/${enc(storage)}/versions/${enc(version)}/plan`,
      planResponse,
      { body: { digests }, signal },
    );
  }

  /**
   * The manifest of `version` as a zstd manifest delta against `base`
   * (GET .../manifest-delta). Returns the successful Response unread, so the
   * caller streams and bounds the body; errors keep their server code.
   */
  getManifestDelta(
    storage: string,
    version: string,
    base: string,
    signal?: AbortSignal,
  ): Promise<Response> {
    const path = `/v1/storages/${enc(storage)}/versions/${enc(version)}/manifest-delta${query({ base })}`;
    const headers: Record<string, string> = { accept: 'application/octet-stream' };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    return this.withRetries(
      () => {
        this.notify('api', 'GET');
        return fetch(`${this.baseUrl}${path}`, { headers, ...(signal ? { signal } : {}) });
      },
      RETRYABLE,
      signal,
    );
  }

  /**
   * Adds a listener called for every HTTP request made from now on (as
   * `onRequest` is); returns a function that removes it. Lets one operation
   * count its own requests on a shared client.
   */
  addRequestListener(listener: (kind: 'api' | 'blob', method: string) => void): () => void {
    this.requestListeners.add(listener);
    return () => {
      this.requestListeners.delete(listener);
    };
  }

  /** Absolute URL for a possibly relative presigned URL. */
  resolveUrl(url: string): string {
    return new URL(url, `${this.baseUrl}/`).toString();
  }

  /**
   * Performs a presigned request with retries. `body` must be re-creatable
   * for retries, so it is a function returning a fresh body per attempt.
   * Returns the successful Response (2xx); the caller consumes its body.
   */
  async send(
    request: PresignedRequestBody,
    init: {
      body?: () => NonNullable<RequestInit['body']>;
      range?: { start: number; end: number };
      signal?: AbortSignal;
    } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      // fetch derives Content-Length from the body (it forbids setting it);
      // the signed value matches because the body is exactly the declared bytes.
      if (name.toLowerCase() !== 'content-length') headers[name] = value;
    }
    if (init.range) headers.range = `bytes=${init.range.start}-${init.range.end - 1}`;
    return this.withRetries(
      async () => {
        this.notify('blob', request.method);
        const body = init.body?.();
        const res = await fetch(this.resolveUrl(request.url), {
          method: request.method,
          headers,
          ...(body !== undefined ? { body, duplex: 'half' } : {}),
          ...(init.signal ? { signal: init.signal } : {}),
        } as RequestInit);
        // A conditional PUT (If-None-Match: *) answers 412 when the object
        // exists; keys are content addressed, so it already holds these bytes.
        if (request.method === 'PUT' && res.status === 412) {
          await res.arrayBuffer().catch(() => undefined);
          return new Response(null, { status: 200 });
        }
        return res;
      },
      request.method === 'PUT' ? PUT_RETRYABLE : RETRYABLE,
      init.signal,
    );
  }

  private async api<S extends z.ZodType>(
    method: 'GET' | 'POST',
    path: string,
    schema: S,
    { body, signal }: { body?: unknown; signal?: AbortSignal | undefined } = {},
  ): Promise<z.infer<S>> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const res = await this.withRetries(
      () => {
        this.notify('api', method);
        return fetch(`${this.baseUrl}${path}`, {
          method,
          headers,
          ...(payload !== undefined ? { body: payload } : {}),
          ...(signal ? { signal } : {}),
        });
      },
      RETRYABLE,
      signal,
    );
    const json: unknown = await res.json().catch(() => {
      if (signal?.aborted) throw signal.reason;
      throw new TroveError('internal', `${method} ${path}: the server sent a non-JSON answer`);
    });
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      throw new TroveError('internal', `${method} ${path}: unexpected answer shape`, {
        issues: parsed.error.issues.slice(0, 5),
      });
    }
    return parsed.data;
  }

  private notify(kind: 'api' | 'blob', method: string): void {
    this.onRequest?.(kind, method);
    for (const listener of this.requestListeners) listener(kind, method);
  }

  /**
   * Retries transport errors and retryable statuses with backoff; maps
   * errors. A 429 or 503 with Retry-After (a busy server) waits that long
   * instead (at most MAX_RETRY_AFTER_MS); `signal` aborts any wait.
   */
  private async withRetries(
    attempt: () => Promise<Response>,
    retryable: ReadonlySet<number> = RETRYABLE,
    signal?: AbortSignal,
  ): Promise<Response> {
    let lastError: unknown;
    let wait: number | null = null;
    let busyBudget = this.busyWaitMs;
    for (let i = 0, sent = 0; i < this.retries; i++, sent++) {
      if (sent > 0) {
        const backoff = Math.min(2000, 100 * 2 ** Math.max(0, i - 1)) * (0.5 + Math.random());
        await delay(wait ?? backoff, signal);
      }
      wait = null;
      let res: Response;
      try {
        res = await attempt();
      } catch (err) {
        // An abort is the caller's decision, not a transport failure: never retried.
        if ((err as Error).name === 'AbortError' || signal?.aborted) throw err;
        lastError = new TroveError(
          'unreachable',
          `cannot reach the trove server at ${this.baseUrl}: ${(err as Error).message}. Is \`trove serve\` running? Set --server or TROVE_URL.`,
          undefined,
          { cause: err },
        );
        continue;
      }
      if (res.ok) return res;
      if (res.status === 429 || res.status === 503)
        wait = retryAfterMs(res.headers.get('retry-after'));
      const error = await errorFrom(res);
      if (!retryable.has(res.status) || FINAL_CODES.has(error.code)) throw error;
      lastError = error;
      // A busy server named its time: waiting it out spends the busy budget, not an attempt.
      if (res.status === 429 && wait !== null && wait <= busyBudget) {
        busyBudget -= wait;
        i--;
      }
    }
    throw lastError;
  }
}

// S3 answers 409 ConditionalRequestConflict when two conditional PUTs of the
// same key race; the retry then gets 412 (stored) or succeeds.
const PUT_RETRYABLE: ReadonlySet<number> = new Set([...RETRYABLE, 409]);

async function errorFrom(res: Response): Promise<TroveError> {
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text) as {
      error?: { code?: unknown; message?: unknown; details?: Record<string, unknown> };
    };
    const code = body.error?.code;
    if (isErrorCode(code)) {
      return new TroveError(code, String(body.error?.message ?? code), body.error?.details);
    }
  } catch {
    // not JSON: fall through to a generic error
  }
  const code =
    res.status === 404 ? 'blob_not_found' : res.status >= 500 ? 'unavailable' : 'internal';
  return new TroveError(code, `HTTP ${res.status} from ${res.url}: ${text.slice(0, 200)}`);
}

function enc(segment: string): string {
  return encodeURIComponent(segment);
}

function query(params: Record<string, string | number | undefined>): string {
  const entries = Object.entries(params).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return '';
  return `?${new URLSearchParams(entries.map(([k, v]): [string, string] => [k, String(v)])).toString()}`;
}

/** Longest Retry-After honoured; a larger value waits this long (the attempt count still bounds the total). */
const MAX_RETRY_AFTER_MS = 30_000;

/** Retry-After (delta-seconds or an HTTP date) in ms, jittered up by 0-20%; null when absent or invalid. */
export function retryAfterMs(value: string | null, now = Date.now()): number | null {
  if (value === null || value.trim() === '') return null;
  const seconds = Number(value);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - now;
  if (!Number.isFinite(ms) || ms < 0) return null;
  // Jitter spreads the clients a busy server refused at the same moment.
  return Math.min(MAX_RETRY_AFTER_MS, ms * (1 + Math.random() * 0.2));
}
