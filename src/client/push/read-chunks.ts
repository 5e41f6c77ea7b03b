import { open } from 'node:fs/promises';
import { Chunker } from '../../core/chunker.js';
import { sha256Hex } from '../../core/digest.js';
import type { ChunkRef } from '../../core/types.js';
import { TroveError } from '../../errors.js';

/** Bytes per read call: large enough to amortise syscalls, small enough to bound memory. */
export const READ_SIZE = 1024 * 1024;
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
  options: { onRestart?: () => void; signal?: AbortSignal } = {},
): Promise<{ chunks: ChunkRef[]; stat: ReadStat }> {
  for (let attempt = 1; ; attempt++) {
    if (attempt > 1) options.onRestart?.();
    const result = await readOnce(abs, path, onChunk, options.signal);
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

async function readOnce(
  abs: string,
  path: string,
  onChunk: ChunkSink,
  signal: AbortSignal | undefined,
): Promise<{ chunks: ChunkRef[]; stat: ReadStat } | null> {
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(abs, 'r');
  } catch (err) {
    throw new TroveError(
      'invalid_request',
      `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      { path },
    );
  }
  let pending: Promise<Buffer> | null = null;
  try {
    const before = await fh.stat();
    if (!before.isFile()) {
      throw new TroveError('invalid_request', `${path} is no longer a regular file`, { path });
    }
    const chunker = new Chunker();
    const chunks: ChunkRef[] = [];
    const emit = async (parts: Buffer[]): Promise<void> => {
      for (const raw of parts) {
        const digest = sha256Hex(raw);
        chunks.push({ digest, size: raw.length });
        await onChunk(digest, raw);
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
    if (
      after.size !== pos ||
      after.mtimeMs !== before.mtimeMs ||
      after.ctimeMs !== before.ctimeMs ||
      before.size !== pos
    ) {
      return null;
    }
    return {
      chunks,
      stat: {
        size: pos,
        mtimeMs: before.mtimeMs,
        ctimeMs: before.ctimeMs,
        ino: before.ino,
        executable: (before.mode & 0o100) !== 0,
      },
    };
  } finally {
    // Never close the handle under a read still in flight.
    await pending?.catch(() => {});
    await fh.close();
  }
}
