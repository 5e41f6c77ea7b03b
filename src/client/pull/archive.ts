import { Readable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { createGunzip, type ZlibOptions } from 'node:zlib';
import type { PresignedRequestBody } from '../../api/schemas.js';
import { type TarEntryHeader, type TarEvent, TarReader } from '../../core/tar-reader.js';
import type { ArchiveFormat, ManifestEntry } from '../../core/types.js';
import { createZstdDecompressStream } from '../../core/zstd-stream.js';
import { TroveError } from '../../errors.js';
import type { TroveClient } from '../api-client.js';
import { ArchiveSink, type TarMember } from './archive-sink.js';
import { SafeTree } from './safe-tree.js';

/** Options of extractStream. */
export interface ExtractOptions {
  /** Compression of the archive. */
  format: ArchiveFormat;
  /** Empty temp dir to extract into. */
  root: string;
  /** Verified manifest the archive must match exactly. */
  entries: readonly ManifestEntry[];
  /** Counts file bytes written. */
  onWritten?: (n: number) => void;
  /** Cancels the extraction. */
  signal?: AbortSignal;
}

/** An archive GET started early, so that it overlaps the manifest fetch. */
export interface PendingArchive {
  /** Compression of the archive. */
  format: ArchiveFormat;
  /** The response (its body not read yet). */
  response: Promise<Response>;
  /** Cancels the request or the unread body (harmless once consumed). */
  abort(): void;
}

/** Starts the archive GET now; extractArchive consumes it later. */
export function startArchiveGet(
  client: TroveClient,
  download: PresignedRequestBody,
  format: ArchiveFormat,
  signal?: AbortSignal,
): PendingArchive {
  const stop = new AbortController();
  const combined = signal ? AbortSignal.any([signal, stop.signal]) : stop.signal;
  const response = client.send(download, { signal: combined });
  // Awaited by extractArchive; a pull that fails before then must not leave a rejection unhandled.
  response.catch(() => undefined);
  return { format, response, abort: () => stop.abort() };
}

/** Options of extractArchive. */
export interface ExtractArchiveOptions extends Omit<ExtractOptions, 'format'> {
  /** The archive GET, started by startArchiveGet. */
  pending: PendingArchive;
  /** Counts compressed bytes received. */
  onBytes?: (n: number) => void;
}

/** Decompressor output size: large slices mean few events per MB. */
const INFLATE_CHUNK = 256 * 1024;
/**
 * zlib passes stream options through to its Transform (the types omit
 * them): a deeper readable buffer lets gunzip run ahead on the threadpool
 * while the main thread writes files.
 */
const INFLATE_OPTIONS = {
  chunkSize: INFLATE_CHUNK,
  readableHighWaterMark: 8 * INFLATE_CHUNK,
} as ZlibOptions;

/** Streams the archive GET into extractStream. */
export async function extractArchive(
  options: ExtractArchiveOptions,
): Promise<{ files: number; size: number }> {
  const res = await options.pending.response;
  if (!res.body) throw new TroveError('internal', 'archive response has no body');
  const body = Readable.fromWeb(res.body as WebReadableStream<Uint8Array>);
  if (options.onBytes) {
    const onBytes = options.onBytes;
    body.on('data', (b: Buffer) => onBytes(b.length));
  }
  return extractStream(body, { ...options, format: options.pending.format });
}

/**
 * Streams a compressed archive through the decompressor (which runs on the
 * threadpool) and the tar reader into `root`, enforcing the path policy on
 * every member and checking the result against the manifest (ArchiveSink).
 * Throws unsafe_path, digest_mismatch or (network) unreachable; the caller
 * removes `root` on failure.
 */
export async function extractStream(
  source: Readable,
  options: ExtractOptions,
): Promise<{ files: number; size: number }> {
  // Which side failed decides the error: the network (unreachable) or the bytes (corrupt archive).
  let transportError: Error | null = null;
  source.once('error', (err) => {
    transportError = err;
  });
  const inflate: Transform =
    options.format === 'tar.gz' ? createGunzip(INFLATE_OPTIONS) : createZstdDecompressStream();
  const flowing = pipeline(source, inflate);
  // Awaited below; a failure also surfaces through the iteration.
  flowing.catch(() => undefined);
  const sink = new ArchiveSink(new SafeTree(options.root), options.entries);
  const reader = new TarReader();
  const handle = (events: TarEvent[]): void => {
    for (const ev of events) {
      if (ev.kind === 'entry') sink.entry(member(ev.header));
      else if (ev.kind === 'data') {
        sink.data(ev.bytes);
        options.onWritten?.(ev.bytes.length);
      } else if (ev.kind === 'entryEnd') sink.entryEnd();
    }
  };
  try {
    for await (const part of inflate as AsyncIterable<Buffer>) {
      options.signal?.throwIfAborted();
      handle(reader.push(part));
    }
    await flowing;
    reader.end();
    sink.finish();
  } catch (err) {
    if (options.signal?.aborted) throw options.signal.reason;
    if (transportError !== null && !(err instanceof TroveError))
      throw new TroveError(
        'unreachable',
        `archive download failed: ${(transportError as Error).message}`,
        undefined,
        { cause: transportError },
      );
    throw asArchiveError(err);
  } finally {
    sink.closeFile();
    source.destroy();
  }
  return { files: sink.files, size: sink.size };
}

/** Maps the core reader's header to what the sink checks. */
function member(h: TarEntryHeader): TarMember {
  return { path: h.path, type: h.type, size: h.size, mode: h.mode, linkTarget: h.linkname ?? '' };
}

/** A corrupt stream (bad compression, bad tar) means the archive is not what the manifest says. */
function asArchiveError(err: unknown): unknown {
  // The reader calls a malformed archive invalid_request; for a pull it is corrupt data.
  if (err instanceof TroveError && err.code !== 'internal' && err.code !== 'invalid_request')
    return err;
  if ((err as Error)?.name === 'AbortError') return err;
  return new TroveError(
    'digest_mismatch',
    `archive is corrupt: ${(err as Error).message}`,
    undefined,
    { cause: err },
  );
}
