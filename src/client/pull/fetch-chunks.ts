import type { PlanResponse } from '../../api/schemas.js';
import { LIMITS } from '../../api/schemas.js';
import { decompressChunk } from '../../core/codec.js';
import { mapLimit } from '../../core/concurrency.js';
import { sha256Hex } from '../../core/digest.js';
import type { ChunkCodec, Digest } from '../../core/types.js';
import { TroveError } from '../../errors.js';
import type { TroveClient } from '../api-client.js';
import { Slicer } from './slicer.js';

/** Options of fetchChunks. */
export interface FetchChunksOptions {
  /** API client (plans and presigned range GETs). */
  client: TroveClient;
  /** Storage holding the version. */
  storage: string;
  /** Full version id. */
  version: string;
  /** Unique digests to fetch. */
  digests: readonly Digest[];
  /** Range GETs in flight (default 8). */
  concurrency?: number;
  /** Receives each verified raw chunk exactly once; must consume it synchronously. */
  onChunk: (digest: Digest, raw: Buffer) => void;
  /** Counts bytes received from object storage. */
  onBytes?: (n: number) => void;
  /** Cancels everything. */
  signal?: AbortSignal;
}

type PlannedRange = PlanResponse['packs'][number]['ranges'][number];
type RangeTask = {
  pack: Digest;
  request: PlanResponse['packs'][number]['request'];
  range: PlannedRange;
};

/** Attempts per range when the body breaks off mid-stream (the client already retries statuses). */
const RANGE_ATTEMPTS = 3;

/**
 * Fetches chunks through reconstruction plans (≤ 10k digests per plan
 * request) and coalesced range GETs, `concurrency` at a time. Each range is
 * streamed and sliced as it arrives, so memory holds about one stored chunk
 * per request in flight. Every chunk is decompressed and its SHA-256 checked
 * before it is handed on.
 */
export async function fetchChunks(options: FetchChunksOptions): Promise<{ chunks: number }> {
  const { client, digests } = options;
  const delivered = new Set<Digest>();
  const step = LIMITS.maxDigestsPerRequest;
  const planAt = (i: number) => {
    const p = client.plan(
      options.storage,
      options.version,
      digests.slice(i, i + step),
      options.signal,
    );
    // Awaited in turn; a failure before then must not go unhandled.
    p.catch(() => undefined);
    return p;
  };
  let nextPlan = digests.length > 0 ? planAt(0) : null;
  for (let i = 0; nextPlan !== null; i += step) {
    options.signal?.throwIfAborted();
    const plan = await nextPlan;
    // The next plan is asked for while this one's ranges download.
    nextPlan = i + step < digests.length ? planAt(i + step) : null;
    if (plan.unknown.length > 0)
      throw new TroveError(
        'missing_chunks',
        `the server cannot locate ${plan.unknown.length} chunk(s) of version ${options.version}`,
        { missing: plan.unknown.slice(0, 100) },
      );
    const tasks: RangeTask[] = plan.packs.flatMap((p) =>
      p.ranges.map((range) => ({ pack: p.pack, request: p.request, range })),
    );
    // On the first failure the other requests in flight are aborted, not left to write late.
    const stop = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
    const scoped = { ...options, signal };
    await mapLimit(tasks, options.concurrency ?? 8, (t) => fetchRange(t, delivered, scoped), {
      onFail: () => stop.abort(),
    });
  }
  const missing = digests.filter((d) => !delivered.has(d));
  if (missing.length > 0)
    throw new TroveError('missing_chunks', `the plan left ${missing.length} chunk(s) out`, {
      missing: missing.slice(0, 100),
    });
  return { chunks: delivered.size };
}

/** A chunk arrived but writing it failed: not a network error, so never retried. */
class LocalWriteError extends Error {
  constructor(cause: unknown) {
    super('writing a fetched chunk failed', { cause });
  }
}

async function fetchRange(
  task: RangeTask,
  delivered: Set<Digest>,
  options: FetchChunksOptions,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await streamRange(task, delivered, options);
      return;
    } catch (err) {
      if (err instanceof TroveError && err.code === 'blob_not_found')
        throw await reportMissing(task.pack, err, options);
      // Verification failures, server answers and local write errors (a full disk) are
      // final; a broken stream is worth another try.
      if (err instanceof LocalWriteError) throw err.cause;
      if (err instanceof TroveError || attempt >= RANGE_ATTEMPTS || options.signal?.aborted)
        throw err;
    }
  }
}

/**
 * A pack the plan named answered 404: the server is told, looks for itself,
 * and stops vouching for its chunks if it is really gone (so the next push of
 * that content uploads it again). The error names the pack either way.
 */
async function reportMissing(
  pack: Digest,
  err: TroveError,
  options: FetchChunksOptions,
): Promise<TroveError> {
  const gone = await options.client
    .missingPacks(options.storage, options.version, [pack], options.signal)
    .catch(() => [] as string[]);
  if (!gone.includes(pack)) return err;
  return new TroveError(
    'pack_missing',
    `pack ${pack}, which version ${options.version} needs, is missing from the object store; ` +
      'pushing the same tree again re-uploads its chunks and repairs the version',
    { packs: [pack], version: options.version },
  );
}

async function streamRange(
  { request, range }: RangeTask,
  delivered: Set<Digest>,
  options: FetchChunksOptions,
): Promise<void> {
  const chunks = [...range.chunks].sort((a, b) => a.offset - b.offset);
  const res = await options.client.send(request, {
    range: { start: range.start, end: range.end },
    ...(options.signal ? { signal: options.signal } : {}),
  });
  if (!res.body) throw new TroveError('internal', 'range response has no body');
  // A server that ignores Range answers 200 with the whole object: skip to the range.
  let skip = res.status === 206 ? 0 : range.start;
  const slicer = new Slicer();
  let next = 0;
  for await (const part of res.body as AsyncIterable<Uint8Array>) {
    options.onBytes?.(part.byteLength);
    let buf = Buffer.from(part.buffer, part.byteOffset, part.byteLength);
    if (skip > 0) {
      const n = Math.min(skip, buf.length);
      skip -= n;
      buf = buf.subarray(n);
    }
    slicer.add(buf);
    while (next < chunks.length) {
      const c = chunks[next]!;
      const stored = slicer.take(c.offset, c.storedSize);
      if (stored === null) break;
      next++;
      if (delivered.has(c.digest)) continue;
      const raw = decompress(c.codec, stored, c.rawSize, c.digest);
      try {
        options.onChunk(c.digest, raw);
      } catch (err) {
        throw new LocalWriteError(err);
      }
      delivered.add(c.digest);
    }
    // Everything planned is in hand: do not read past it (a 200 answer carries the whole pack).
    if (next >= chunks.length) break;
  }
  if (next < chunks.length)
    throw new Error(`range ${range.start}-${range.end} ended after ${slicer.position} bytes`);
}

function decompress(codec: ChunkCodec, stored: Buffer, rawSize: number, digest: Digest): Buffer {
  let raw: Buffer;
  try {
    raw = decompressChunk(codec, stored, rawSize);
  } catch (err) {
    throw new TroveError(
      'digest_mismatch',
      `chunk ${digest} does not decompress`,
      { digest },
      {
        cause: err,
      },
    );
  }
  const actual = sha256Hex(raw);
  if (raw.length !== rawSize || actual !== digest)
    throw new TroveError('digest_mismatch', `chunk ${digest} hashes to ${actual}`, { digest });
  return raw;
}
