import type { CommitResponse, PresignedRequestBody } from '../../api/schemas.js';
import { delay } from '../../core/concurrency.js';
import { TroveError } from '../../errors.js';
import type { TroveClient } from '../api-client.js';
import { DELTA_REJECTED, type PreparedDelta, sendDelta } from './manifest-delta.js';
import type { PushProgress } from './progress.js';

/** Bytes a push has sent so far, added to by every stage (and by both attempts of a retried push). */
export interface PushTotals {
  /** Chunks uploaded. */
  chunksUploaded: number;
  /** Bytes PUT: packs plus manifest (or manifest delta). */
  bytesUploaded: number;
  /** Packs uploaded. */
  packsUploaded: number;
  /** Bytes PUT for the manifest or its delta. */
  manifestBytesUploaded: number;
}

/** A commit the server answered as done. */
export type Committed = Extract<CommitResponse, { status: 'committed' }>;

/** Options of commitVersion. */
export interface CommitVersionOptions {
  /** API client. */
  client: TroveClient;
  /** Upload session id. */
  session: string;
  /** The new manifest's bytes. */
  manifest: Buffer;
  /** Presigned PUT for the manifest; absent when the server holds it already (a repair push). */
  manifestUpload: PresignedRequestBody | undefined;
  /** Presigned PUT for the delta; absent when the server took none. */
  deltaUpload: PresignedRequestBody | undefined;
  /** The prepared delta, if any. */
  delta: PreparedDelta | null;
  /** Added to as bytes go up. */
  totals: PushTotals;
  /** Progress callback ('commit' phase). */
  onProgress: (p: PushProgress) => void;
  /** Cancels the uploads, the commit calls and the waits between them. */
  signal: AbortSignal | undefined;
}

/**
 * Sends the manifest (its delta when the server took one and the PUT
 * worked, else whole) and commits. When the server rejects the manifest it
 * rebuilt from the delta (it deleted the delta), the whole manifest goes up
 * and the commit is repeated once.
 */
export async function commitVersion(o: CommitVersionOptions): Promise<Committed> {
  const { client, manifestUpload, signal } = o;
  const sendManifest = async (): Promise<void> => {
    // No URL: the server holds this manifest already (a repair push).
    if (manifestUpload === undefined) return;
    const put = await client.send(manifestUpload, { body: () => o.manifest, signal });
    await put.arrayBuffer();
    o.totals.bytesUploaded += o.manifest.length;
    o.totals.manifestBytesUploaded += o.manifest.length;
  };
  const usedDelta =
    o.delta !== null && manifestUpload !== undefined && o.deltaUpload !== undefined
      ? await sendDelta(client, o.deltaUpload, o.delta, o.totals, signal)
      : false;
  if (!usedDelta) await sendManifest();
  try {
    return await commitLoop(client, o.session, o.onProgress, signal);
  } catch (err) {
    // The server rejected the rebuilt manifest (and deleted the delta): send it whole.
    if (!usedDelta || !(err instanceof TroveError) || !DELTA_REJECTED.has(err.code)) throw err;
    await sendManifest();
    return await commitLoop(client, o.session, o.onProgress, signal);
  }
}

/** Calls commit until the server stops answering 'verifying'. */
async function commitLoop(
  client: TroveClient,
  session: string,
  onProgress: (p: PushProgress) => void,
  signal: AbortSignal | undefined,
): Promise<Committed> {
  for (let i = 0; ; i++) {
    signal?.throwIfAborted();
    const res = await client.commit(session, signal);
    if (res.status === 'committed') {
      onProgress({ phase: 'commit', done: 1, total: 1, files: 0 });
      return res;
    }
    onProgress({ phase: 'commit', done: res.packsVerified, total: res.packsTotal, files: 0 });
    await delay(Math.min(500, 25 * 2 ** i), signal);
  }
}
