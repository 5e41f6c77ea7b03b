import { closeSync, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';
import { chunkBuffer } from '../../core/chunker.js';
import { sha256Hex } from '../../core/digest.js';
import { GuidedChunker, type HashedChunk } from '../../core/guided-chunker.js';
import type { ChunkRef } from '../../core/types.js';
import { TroveError } from '../../errors.js';

/** Bytes per read call: large enough to amortise syscalls, small enough to bound memory. */
export const READ_SIZE = 1024 * 1024;
/**
 * Files up to this size are read with synchronous calls: for small files the
 * threadpool round trips of async I/O cost far more than the read itself
 * (10,000 small files: ~0.6 ms each async, ~20 us sync).
 */
export const SMALL_FILE = 256 * 1024;
/** Times a file that changes while being read is read again before giving up. */
const ATTEMPTS = 3;

/** The stat fields a file had when it was read. */
export interface ReadStat {
  /** Size in bytes (equals the bytes read). */
  size: number;
  /** Modification time in ms. */
  mtimeMs: number;
  /** Status-change time in ms. */
  ctimeMs: number;
  /** Inode number. */
  ino: number;
  /** Owner-executable bit. */
  executable: boolean;
}

/** A chunk as cut from a file: its digest and raw bytes (may alias a read buffer). */
export type ChunkSink = (digest: string, raw: Buffer) => void | Promise<void>;

/** Options of readChunks. */
export interface ReadChunksOptions {
  /** Called before a re-read of a file that changed while it was read. */
  onRestart?: () => void;
  /** Cancels the read. */
  signal?: AbortSignal;
  /** The size the walk saw: small files are read whole, synchronously. */
  sizeHint?: number;
  /**
   * The file's chunks when it was last recorded (stat cache): where its bytes
   * are unchanged they are verified by SHA-256 instead of searched for cut
   * points (GuidedChunker). Hints only; the result is the same without them.
   */
  previous?: readonly ChunkRef[];
}

/**
 * Streams a file through the chunker and hashes every chunk, in bounded
 * memory (one read buffer in flight plus fewer than `max` bytes in the
 * chunker). The file is read again when it changes underneath us (its stat
 * before and after differ), so the chunks always describe one consistent
 * state; `onChunk` therefore must tolerate a restart (see `onRestart`).
 */
export async function readChunks(
  abs: string,
  path: string,
  onChunk: ChunkSink,
  options: ReadChunksOptions = {},
): Promise<{ chunks: ChunkRef[]; stat: ReadStat }> {
  for (let attempt = 1; ; attempt++) {
    if (attempt > 1) options.onRestart?.();
    const small =
      options.sizeHint !== undefined && options.sizeHint <= SMALL_FILE
        ? readSmall(abs, path)
        : undefined;
    const result =
      small === undefined
        ? await readOnce(abs, path, onChunk, options.signal, options.previous)
        : small === null
          ? null
          : await emitSmall(small.data, small.stat, onChunk);
    if (result !== null) return result;
    if (attempt >= ATTEMPTS) {
      throw new TroveError(
        'invalid_request',
        `${path} keeps changing while it is read; stop writing to it and push again`,
        { path },
      );
    }
  }
}

function cannotRead(path: string, err: unknown): TroveError {
  const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
  return new TroveError('invalid_request', `cannot read ${path}: ${why}`, { path });
}

function readStat(st: Stats, size: number): ReadStat {
  return {
    size,
    mtimeMs: st.mtimeMs,
    ctimeMs: st.ctimeMs,
    ino: st.ino,
    executable: (st.mode & 0o100) !== 0,
  };
}

/**
 * Reads a small file whole with synchronous calls. Returns undefined when it
 * turned out not to be small (use the streaming path), null when it changed
 * while being read.
 */
function readSmall(abs: string, path: string): { data: Buffer; stat: ReadStat } | null | undefined {
  let fd: number;
  try {
    fd = openSync(abs, 'r');
  } catch (err) {
    throw cannotRead(path, err);
  }
  try {
    const before = fstatSync(fd);
    if (!before.isFile()) {
      throw new TroveError('invalid_request', `${path} is no longer a regular file`, { path });
    }
    if (before.size > SMALL_FILE) return undefined;
    // One spare byte shows a file that grew since fstat.
    const buf = Buffer.allocUnsafe(before.size + 1);
    let n = 0;
    for (;;) {
      const got = readSync(fd, buf, n, buf.length - n, n);
      if (got === 0) break;
      n += got;
      if (n === buf.length) return null;
    }
    const after = fstatSync(fd);
    if (n !== before.size || !sameStat(before, after)) return null;
    return { data: buf.subarray(0, n), stat: readStat(before, n) };
  } finally {
    closeSync(fd);
  }
}

function sameStat(a: Stats, b: Stats): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs;
}

async function emitSmall(
  data: Buffer,
  stat: ReadStat,
  onChunk: ChunkSink,
): Promise<{ chunks: ChunkRef[]; stat: ReadStat }> {
  const chunks: ChunkRef[] = [];
  for (const raw of chunkBuffer(data)) {
    const digest = sha256Hex(raw);
    chunks.push({ digest, size: raw.length });
    await onChunk(digest, raw);
  }
  return { chunks, stat };
}

async function readOnce(
  abs: string,
  path: string,
  onChunk: ChunkSink,
  signal: AbortSignal | undefined,
  previous: readonly ChunkRef[] = [],
): Promise<{ chunks: ChunkRef[]; stat: ReadStat } | null> {
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(abs, 'r');
  } catch (err) {
    throw cannotRead(path, err);
  }
  let pending: Promise<Buffer> | null = null;
  try {
    const before = await fh.stat();
    if (!before.isFile()) {
      throw new TroveError('invalid_request', `${path} is no longer a regular file`, { path });
    }
    // Without previous chunks this is the plain CDC chunker (plus hashing).
    const chunker = new GuidedChunker(previous, before.size);
    const chunks: ChunkRef[] = [];
    const emit = async (parts: HashedChunk[]): Promise<void> => {
      for (const { data, digest } of parts) {
        chunks.push({ digest, size: data.length });
        await onChunk(digest, data);
      }
    };
    let pos = 0;
    const readAt = async (at: number): Promise<Buffer> => {
      // Fresh buffers: the chunker hands out subarrays of what it was given.
      const want = Math.min(READ_SIZE, Math.max(64 * 1024, before.size - at + 1));
      const buf = Buffer.allocUnsafe(want);
      const { bytesRead } = await fh.read(buf, 0, want, at);
      return buf.subarray(0, bytesRead);
    };
    // Double buffering: the next read runs while this block is chunked and hashed.
    pending = readAt(0);
    for (;;) {
      signal?.throwIfAborted();
      const block = await pending;
      if (block.length === 0) break;
      pos += block.length;
      pending = readAt(pos);
      await emit(chunker.push(block));
    }
    await emit(chunker.finish());
    const after = await fh.stat();
    if (before.size !== pos || !sameStat(before, after)) return null;
    return { chunks, stat: readStat(before, pos) };
  } finally {
    // Never close the handle under a read still in flight.
    await pending?.catch(() => {});
    await fh.close();
  }
}
