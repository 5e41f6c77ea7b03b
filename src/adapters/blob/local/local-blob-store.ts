import { createHash, randomUUID } from 'node:crypto';
import {
  access,
  constants,
  type FileHandle,
  mkdir,
  open,
  rename,
  rm,
  stat,
  unlink,
} from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { TroveError } from '../../../errors.js';
import type { BlobStore, PresignedRequest } from '../../../ports/blob-store.js';
import { assertValidBlobKey } from '../checked.js';
import {
  ensurePrivateDirSync,
  errnoOf,
  fsyncNewDirs,
  isMissing,
  PRIVATE_DIR_MODE,
  PRIVATE_FILE_MODE,
  removeStaleTempFiles,
  writeFully,
} from './files.js';
import {
  type SignedFields,
  type SignedQuery,
  signedRequest,
  verifySignedQuery,
} from './signing.js';

/** Construction options of LocalBlobStore. */
export interface LocalBlobStoreOptions {
  /** Directory holding the objects (`root/<key>`) and in-flight uploads (`root/.tmp`). */
  root: string;
  /** HMAC key for signed URLs; at least 16 bytes. */
  secret: Buffer | string;
  /** Path the blob routes are mounted under; signed URLs are relative to the API base. */
  pathPrefix?: string;
  /** Clock in milliseconds, for tests of expiry. */
  now?: () => number;
  /**
   * No other process writes under `root` (the embedded server holds the data
   * directory's lock): every temp file found at construction is a crash
   * leftover and is removed, whatever its age. Otherwise (several processes
   * sharing the directory, PostgreSQL mode) only stale ones are.
   */
  exclusive?: boolean;
  /**
   * A temp file not written for this long belongs to a put that died (a
   * streaming put writes at least every MiB): `sweepTempFiles` and the
   * construction of a non-exclusive store remove it. Default one hour.
   */
  staleTempMs?: number;
}

const TMP_DIR = '.tmp';
/** Default of LocalBlobStoreOptions.staleTempMs. */
export const STALE_TEMP_MS = 60 * 60 * 1000;
/** Writes are coalesced to this size: fewer syscalls, memory still bounded. */
const WRITE_BATCH_BYTES = 1024 * 1024;
const DELETE_CONCURRENCY = 32;

function notFound(key: string): TroveError {
  return new TroveError('blob_not_found', `no blob at key ${key}`, { key });
}

function emptyStream(): Readable {
  return new Readable({
    read() {
      this.push(null);
    },
  });
}

/**
 * BlobStore on the local filesystem, the embedded default. Puts are atomic
 * (temp file, verify, fsync, rename, fsync directory) and stream with bounded
 * memory; signed URLs are HMACs verified by `localBlobRoutes`.
 */
export class LocalBlobStore implements BlobStore {
  /** Absolute directory holding the objects. */
  readonly root: string;
  /** Path prefix of signed URLs (default '/v1/blobs'). */
  readonly pathPrefix: string;
  private readonly tmpDir: string;
  private readonly secret: Buffer;
  private readonly now: () => number;
  private readonly staleTempMs: number;
  /** Names of the temp files this store's puts are writing: never swept. */
  private readonly inFlight = new Set<string>();

  constructor(options: LocalBlobStoreOptions) {
    this.root = resolve(options.root);
    this.tmpDir = join(this.root, TMP_DIR);
    this.secret =
      typeof options.secret === 'string' ? Buffer.from(options.secret, 'utf8') : options.secret;
    if (this.secret.length < 16) {
      throw new TroveError('invalid_config', 'the blob signing secret must be at least 16 bytes');
    }
    this.pathPrefix = options.pathPrefix ?? '/v1/blobs';
    if (!/^(\/[A-Za-z0-9._-]+)+$/.test(this.pathPrefix)) {
      throw new TroveError('invalid_config', `invalid blob path prefix: ${this.pathPrefix}`);
    }
    this.now = options.now ?? Date.now;
    ensurePrivateDirSync(this.root);
    ensurePrivateDirSync(this.tmpDir);
    this.staleTempMs = options.staleTempMs ?? STALE_TEMP_MS;
    removeStaleTempFiles(this.tmpDir, options.exclusive ? 0 : this.staleTempMs, Date.now());
  }

  /**
   * Removes temp files of puts that died (killed uploads and archive builds):
   * those not written for `staleTempMs`, never one this store is writing.
   * Returns how many were removed.
   */
  sweepTempFiles(): number {
    return removeStaleTempFiles(this.tmpDir, this.staleTempMs, Date.now(), this.inFlight);
  }

  async stat(key: string): Promise<{ size: number } | null> {
    try {
      const st = await stat(this.pathOf(key));
      return st.isFile() ? { size: st.size } : null;
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
  }

  async get(key: string, range?: { start: number; end: number }): Promise<Readable> {
    let fh: FileHandle;
    try {
      fh = await open(this.pathOf(key), 'r');
    } catch (err) {
      if (isMissing(err) || errnoOf(err) === 'EISDIR') throw notFound(key);
      throw err;
    }
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw notFound(key);
      if (range === undefined) return fh.createReadStream();
      if (range.end > st.size) {
        throw new TroveError('invalid_request', 'byte range extends past the end of the blob', {
          key,
          start: range.start,
          end: range.end,
          size: st.size,
        });
      }
      if (range.start === range.end) {
        await fh.close();
        return emptyStream();
      }
      // The stream owns the handle from here on (autoClose).
      return fh.createReadStream({ start: range.start, end: range.end - 1 });
    } catch (err) {
      await fh.close().catch(() => {});
      throw err;
    }
  }

  async put(
    key: string,
    body: Readable,
    options?: { size?: number; sha256?: string; contentType?: string },
  ): Promise<{ size: number; sha256: string }> {
    const target = this.pathOf(key);
    const tmpName = `${randomUUID()}.part`;
    const tmp = join(this.tmpDir, tmpName);
    const hash = createHash('sha256');
    const expected = options?.size;
    let size = 0;
    let fh: FileHandle | undefined;
    let renamed = false;
    this.inFlight.add(tmpName);
    try {
      fh = await open(tmp, 'wx', PRIVATE_FILE_MODE);
      let batch: Buffer[] = [];
      let batchBytes = 0;
      // Async iteration pulls one chunk at a time, so a slow disk slows the
      // sender instead of filling memory; leaving the loop destroys the body.
      for await (const chunk of body) {
        const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
        size += buf.length;
        if (expected !== undefined && size > expected) {
          throw new TroveError(
            'size_mismatch',
            `received more than the declared ${expected} bytes`,
            {
              expected,
              actual: size,
            },
          );
        }
        hash.update(buf);
        batch.push(buf);
        batchBytes += buf.length;
        if (batchBytes >= WRITE_BATCH_BYTES) {
          await writeFully(fh, Buffer.concat(batch, batchBytes));
          batch = [];
          batchBytes = 0;
        }
      }
      if (batchBytes > 0) await writeFully(fh, Buffer.concat(batch, batchBytes));
      if (expected !== undefined && size !== expected) {
        throw new TroveError('size_mismatch', `received ${size} bytes, declared ${expected}`, {
          expected,
          actual: size,
        });
      }
      const sha256 = hash.digest('hex');
      if (options?.sha256 !== undefined && sha256 !== options.sha256) {
        throw new TroveError('digest_mismatch', 'uploaded bytes do not match the declared sha256', {
          expected: options.sha256,
          actual: sha256,
        });
      }
      await fh.sync();
      await fh.close();
      fh = undefined;
      const dir = dirname(target);
      const firstCreated = await mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
      await rename(tmp, target);
      renamed = true;
      await fsyncNewDirs(dir, firstCreated);
      return { size, sha256 };
    } catch (err) {
      if (!body.destroyed) body.destroy();
      throw err;
    } finally {
      await fh?.close().catch(() => {});
      if (!renamed) await rm(tmp, { force: true }).catch(() => {});
      this.inFlight.delete(tmpName);
    }
  }

  async delete(keys: string[]): Promise<void> {
    const paths = keys.map((key) => this.pathOf(key));
    for (let i = 0; i < paths.length; i += DELETE_CONCURRENCY) {
      await Promise.all(paths.slice(i, i + DELETE_CONCURRENCY).map(unlinkIfFile));
    }
  }

  async presignPut(
    key: string,
    options: { size: number; sha256: string; expiresInSeconds: number },
  ): Promise<PresignedRequest> {
    const fields: SignedFields = {
      method: 'PUT',
      key,
      expires: String(this.expiryFor(options.expiresInSeconds)),
      size: String(options.size),
      sha256: options.sha256,
    };
    return {
      ...this.sign(fields),
      headers: { 'content-length': String(options.size) },
    };
  }

  async presignGet(key: string, options: { expiresInSeconds: number }): Promise<PresignedRequest> {
    const fields: SignedFields = {
      method: 'GET',
      key,
      expires: String(this.expiryFor(options.expiresInSeconds)),
    };
    return this.sign(fields);
  }

  async ping(): Promise<void> {
    await mkdir(this.tmpDir, { recursive: true, mode: PRIVATE_DIR_MODE });
    await access(this.root, constants.W_OK);
    await access(this.tmpDir, constants.W_OK);
  }

  /**
   * Checks a request against its signed URL. HEAD is verified as GET. Throws
   * `signature_invalid` when anything signed differs (method, key, expiry,
   * size, digest) or is missing, and `url_expired` for a genuine but old URL.
   * Returns what a PUT must carry.
   */
  verifySignedRequest(
    method: string,
    key: string,
    query: SignedQuery,
  ): { size?: number; sha256?: string } {
    if (key.split('/')[0] === TMP_DIR) throw new TroveError('signature_invalid', 'bad key');
    return verifySignedQuery(this.secret, this.now(), method, key, query);
  }

  /** Rounded up so a URL always lives at least as long as asked. */
  private expiryFor(expiresInSeconds: number): number {
    return Math.ceil((this.now() + expiresInSeconds * 1000) / 1000);
  }

  private sign(fields: SignedFields): PresignedRequest {
    assertValidBlobKey(fields.key);
    return signedRequest(this.secret, this.pathPrefix, fields);
  }

  /** Drivers are usable unwrapped too, so the path is never built from an unchecked key. */
  private pathOf(key: string): string {
    assertValidBlobKey(key);
    if (key.split('/')[0] === TMP_DIR) {
      throw new TroveError('invalid_request', `blob keys may not start with ${TMP_DIR}/`);
    }
    return join(this.root, ...key.split('/'));
  }
}

async function unlinkIfFile(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (err) {
    // A directory at the path means no blob there (it only holds deeper keys).
    const code = errnoOf(err);
    if (!isMissing(err) && code !== 'EISDIR' && code !== 'EPERM') throw err;
  }
}
