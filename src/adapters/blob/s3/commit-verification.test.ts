import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SERVICE_CONFIG } from '../../../config.js';
import { createApp } from '../../../http/app.js';
import type { BlobStore } from '../../../ports/blob-store.js';
import { packKey } from '../../../services/keys.js';
import {
  buildPack,
  buildTree,
  call,
  overHttp,
  sendPresigned,
} from '../../../testing/http-harness.js';
import { type RunningS3rver, startS3rver } from '../../../testing/s3rver.js';
import { openPgliteStore } from '../../metadata/pglite.js';
import { PgBossQueue } from '../../queue/pgboss-queue.js';
import { pgliteExecutor } from '../../queue/pglite-executor.js';
import { checkedBlobStore } from '../checked.js';
import { S3BlobStore } from './s3-blob-store.js';

/**
 * s3rver verifies neither signatures nor x-amz-checksum-sha256, so a client
 * can store any bytes at a presigned pack URL. These tests drive the real
 * commit path against it and show trove's own verification refusing them.
 */
describe('commit verification on S3 (s3rver accepts bad bytes, trove refuses them)', () => {
  let s3: RunningS3rver;
  let blobs: BlobStore;
  let app: ReturnType<typeof createApp>;
  let close: () => Promise<void>;
  // Presigned URLs are absolute (s3rver); API paths go to the app in-process.
  const bucket = overHttp('http://unused.invalid');

  beforeAll(async () => {
    s3 = await startS3rver();
    const { store: metadata, db } = await openPgliteStore();
    const queue = new PgBossQueue({ executor: pgliteExecutor(db), pollIntervalSeconds: 0.5 });
    await queue.start();
    blobs = checkedBlobStore(
      new S3BlobStore({
        bucket: s3.bucket,
        region: s3.region,
        endpoint: s3.endpoint,
        forcePathStyle: true,
        credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
      }),
    );
    app = createApp({ metadata, blobs, queue, config: DEFAULT_SERVICE_CONFIG });
    close = async () => {
      await queue.stop(0);
      await metadata.close();
    };
  });
  afterAll(async () => {
    await close?.();
    await s3?.stop();
  });

  /** Opens a session for a one-file tree and presigns its pack. */
  async function openPush(storage: string) {
    // Random bytes are stored raw, so a flipped byte still parses and fails its digest.
    const tree = buildTree({ 'x.bin': randomBytes(5000) });
    const start = await call(app, 'POST', `/v1/storages/${storage}/uploads`, {
      version: tree.id,
      manifestSize: tree.manifest.length,
      parent: null,
    });
    expect(start.status).toBe(201);
    const session = start.json.session as string;
    const pack = buildPack(tree.chunks.values());
    const presign = () =>
      call(app, 'POST', `/v1/uploads/${session}/packs`, {
        packs: [{ id: pack.id, size: pack.bytes.length }],
      });
    const presigned = await presign();
    expect(presigned.status).toBe(200);
    const manifestPut = await sendPresigned(bucket, start.json.manifestUpload, tree.manifest);
    expect(manifestPut.status).toBe(200);
    return { tree, session, pack, presign, request: presigned.json.uploads[0].request };
  }

  it('rejects a pack with wrong bytes of the right length as digest_mismatch and deletes it', async () => {
    const { session, pack, presign, request } = await openPush('wrong-bytes');
    expect(new URL(request.url).origin).toBe(s3.endpoint);
    const corrupt = Buffer.from(pack.bytes);
    corrupt[0] = (corrupt[0] ?? 0) ^ 0xff;
    const put = await sendPresigned(bucket, request, corrupt);
    await put.arrayBuffer();
    // Real S3 would answer 400 BadDigest here; s3rver stores the bytes.
    expect(put.status).toBe(200);
    const key = packKey('default', pack.id);
    expect(await blobs.stat(key)).toEqual({ size: pack.bytes.length });

    const commit = await call(app, 'POST', `/v1/uploads/${session}/commit`);
    expect(commit.status).toBe(422);
    expect(commit.json.error.code).toBe('digest_mismatch');
    expect(commit.json.error.details.pack).toBe(pack.id);
    expect(await blobs.stat(key)).toBeNull();

    // The right bytes, uploaded again, let the same session commit.
    const again = await presign();
    const fixed = await sendPresigned(bucket, again.json.uploads[0].request, pack.bytes);
    await fixed.arrayBuffer();
    expect(fixed.status).toBe(200);
    const retry = await call(app, 'POST', `/v1/uploads/${session}/commit`);
    expect(retry.status).toBe(200);
    expect(retry.json.status).toBe('committed');
  });

  it('rejects a pack of the wrong length and deletes it', async () => {
    const { session, pack, request } = await openPush('wrong-length');
    const short = pack.bytes.subarray(0, pack.bytes.length - 1);
    const put = await sendPresigned(bucket, request, short);
    await put.arrayBuffer();
    expect(put.status).toBe(200);
    const commit = await call(app, 'POST', `/v1/uploads/${session}/commit`);
    expect(commit.status).toBe(422);
    expect(commit.json.error.code).toBe('size_mismatch');
    expect(await blobs.stat(packKey('default', pack.id))).toBeNull();
  });
});
