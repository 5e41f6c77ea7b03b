import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureLogs } from '../../../observability/logger.js';
import { checkedBlobStore } from '../checked.js';
import { expectTroveError } from '../testing/harness.js';
import { digestStream, generatedSha256, generatedStream } from '../testing/streams.js';
import { createS3Client, MIN_PART_SIZE_BYTES } from './client.js';
import { S3BlobStore } from './s3-blob-store.js';
import { openS3BlobHarness, type S3BlobHarness } from './testing/s3-harness.js';

const MiB = 1024 * 1024;
const PART = MIN_PART_SIZE_BYTES;

/** A stream of `total` bytes from one reused buffer: cheap to make, never held whole. */
function cheapStream(total: number, chunk = MiB): Readable {
  const buf = Buffer.alloc(chunk, 0x5a);
  async function* gen(): AsyncGenerator<Buffer> {
    for (let sent = 0; sent < total; sent += chunk)
      yield buf.subarray(0, Math.min(chunk, total - sent));
  }
  return Readable.from(gen(), { objectMode: false });
}

/** A stream that yields `before` bytes and then fails. */
function failingStream(before: number): Readable {
  async function* gen(): AsyncGenerator<Buffer> {
    yield* generatedStream(before, 3);
    throw new Error('client went away');
  }
  return Readable.from(gen(), { objectMode: false });
}

describe('S3BlobStore multipart puts (s3rver)', () => {
  let h: S3BlobHarness;
  const logs = captureLogs('warn');
  let n = 0;
  const key = (label: string): string => `multipart/${label}/${n++}`;
  const store = () =>
    checkedBlobStore(
      new S3BlobStore({
        ...h.options,
        partSizeBytes: PART,
        partConcurrency: 2,
        logger: logs.logger,
      }),
    );

  beforeAll(async () => {
    h = await openS3BlobHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('uploads ~3 parts, verifies the digest and reads back the same bytes', async () => {
    const k = key('three');
    const size = 2 * PART + 123_457;
    const sha256 = generatedSha256(size, 9);
    // Record the commands sent (a real client, only observed).
    const client = createS3Client(h.options);
    const sent: string[] = [];
    client.middlewareStack.add(
      (next, context) => (args) => {
        sent.push(String(context.commandName));
        return next(args);
      },
      { step: 'initialize' },
    );
    const counted = checkedBlobStore(
      new S3BlobStore({ ...h.options, client, partSizeBytes: PART }),
    );
    expect(await counted.put(k, generatedStream(size, 9), { size, sha256 })).toEqual({
      size,
      sha256,
    });
    expect(sent).toEqual([
      'CreateMultipartUploadCommand',
      'UploadPartCommand',
      'UploadPartCommand',
      'UploadPartCommand',
      'CompleteMultipartUploadCommand',
    ]);
    client.destroy();
    expect(await digestStream(await store().get(k))).toEqual({ size, sha256 });
    const range = await digestStream(await store().get(k, { start: PART - 10, end: PART + 10 }));
    expect(range.size).toBe(20);
  });

  it('puts a body of unknown size that is exactly one part', async () => {
    const k = key('exact');
    const sha256 = generatedSha256(PART, 4);
    expect(await store().put(k, generatedStream(PART, 4))).toEqual({ size: PART, sha256 });
    expect(await store().stat(k)).toEqual({ size: PART });
  });

  it('never completes an upload whose digest or size is wrong', async () => {
    const size = 2 * PART + 1;
    const cases = [
      { options: { size, sha256: '0'.repeat(64) }, code: 'digest_mismatch' },
      { options: { sha256: '0'.repeat(64) }, code: 'digest_mismatch' },
      { options: { size: size + 1 }, code: 'size_mismatch' },
      { options: { size: PART + 7 }, code: 'size_mismatch' },
    ] as const;
    for (const { options, code } of cases) {
      const k = key('wrong');
      await expectTroveError(store().put(k, generatedStream(size, 5), options), code);
      expect(await store().stat(k)).toBeNull();
    }
  });

  it('leaves nothing when the body fails midway, and keeps that error', async () => {
    const k = key('broken');
    const err = await expectTroveError(store().put(k, failingStream(2 * PART + 99)), 'unavailable');
    expect(err.message).toContain('client went away');
    expect(await store().stat(k)).toBeNull();
    // s3rver has no AbortMultipartUpload: the failed abort is logged, not thrown.
    const aborts = logs.events().filter((e) => String(e.msg).includes('AbortMultipartUpload'));
    expect(aborts.length).toBeGreaterThan(0);
  });

  it('keeps memory bounded while streaming 200 MiB', async () => {
    const k = key('big');
    const total = 200 * MiB;
    const before = process.memoryUsage().rss;
    let peak = before;
    const timer = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 20);
    try {
      const put = await store().put(k, cheapStream(total), { size: total });
      expect(put.size).toBe(total);
    } finally {
      clearInterval(timer);
    }
    peak = Math.max(peak, process.memoryUsage().rss);
    // Parts in flight (2) + the one filling = 15 MiB; allow for the SDK and GC lag.
    expect(peak - before).toBeLessThan(100 * MiB);
    expect(await store().stat(k)).toEqual({ size: total });
    await store().delete([k]);
  }, 120_000);
});
