import { createHash } from 'node:crypto';
import { createServer } from 'node:net';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TroveError } from '../../../errors.js';
import { checkedBlobStore } from '../checked.js';
import { runBlobStoreConformance } from '../testing/conformance.js';
import { expectTroveError } from '../testing/harness.js';
import { createS3Client } from './client.js';
import { mapS3Error } from './errors.js';
import { S3BlobStore } from './s3-blob-store.js';
import { openS3BlobHarness, type S3BlobHarness } from './testing/s3-harness.js';

runBlobStoreConformance('s3 (s3rver)', () => openS3BlobHarness());
runBlobStoreConformance('s3 (s3rver, key prefix)', () =>
  openS3BlobHarness({ prefix: 'tenant-data/trove/' }),
);

/** A port nothing listens on (bound, then released). */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('S3BlobStore against s3rver', () => {
  let h: S3BlobHarness;
  beforeAll(async () => {
    h = await openS3BlobHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('keeps keys under the prefix', async () => {
    const prefixed = checkedBlobStore(new S3BlobStore({ ...h.options, prefix: 'p1/p2' }));
    await prefixed.put('a/b', Readable.from([Buffer.from('hi')]));
    expect(await h.store.stat('p1/p2/a/b')).toEqual({ size: 2 });
    expect(await h.store.stat('a/b')).toBeNull();
    await prefixed.delete(['a/b']);
    expect(await h.store.stat('p1/p2/a/b')).toBeNull();
  });

  it('deletes in batches of 1000 keys', async () => {
    const client = createS3Client(h.options);
    const sent: string[] = [];
    client.middlewareStack.add(
      (next, context) => (args) => {
        sent.push(String(context.commandName));
        return next(args);
      },
      { step: 'initialize' },
    );
    const store = checkedBlobStore(new S3BlobStore({ ...h.options, client }));
    const keys = Array.from({ length: 2001 }, (_, i) => `batch/k${i}`);
    for (const i of [0, 999, 1000, 2000])
      await store.put(keys[i] ?? '', Readable.from([Buffer.from('x')]));
    sent.length = 0;
    const md5Ok: boolean[] = [];
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const request = args.request as { headers: Record<string, string>; body: string };
        if (context.commandName === 'DeleteObjectsCommand') {
          const md5 = createHash('md5').update(request.body).digest('base64');
          md5Ok.push(request.headers['content-md5'] === md5);
        }
        return next(args);
      },
      { step: 'finalizeRequest' },
    );
    await store.delete(keys);
    expect(md5Ok).toEqual([true, true, true]);
    expect(sent).toEqual(['DeleteObjectsCommand', 'DeleteObjectsCommand', 'DeleteObjectsCommand']);
    for (const i of [0, 999, 1000, 2000]) expect(await store.stat(keys[i] ?? '')).toBeNull();
    client.destroy();
  });

  it('ping names a missing bucket as invalid_config', async () => {
    const store = checkedBlobStore(new S3BlobStore({ ...h.options, bucket: 'no-such-bucket' }));
    const err = await expectTroveError(store.ping(), 'invalid_config');
    expect(err.message).toContain('bucket no-such-bucket does not exist at');
    expect(err.message).toContain(h.s3.endpoint);
  });

  it('ping reports rejected credentials as invalid_config', async () => {
    const credentials = { accessKeyId: 'WRONG', secretAccessKey: 'WRONG' };
    const store = checkedBlobStore(new S3BlobStore({ ...h.options, credentials }));
    const err = await expectTroveError(store.ping(), 'invalid_config');
    expect(err.message).toContain('credentials rejected');
    await expectTroveError(store.stat('k'), 'invalid_config');
  });

  it('reports an unreachable endpoint as unavailable, naming it', async () => {
    const endpoint = `http://127.0.0.1:${await deadPort()}`;
    const store = checkedBlobStore(new S3BlobStore({ ...h.options, endpoint }));
    const err = await expectTroveError(store.ping(), 'unavailable');
    expect(err.message).toContain(endpoint);
    await expectTroveError(store.get('k'), 'unavailable');
    await expectTroveError(store.put('k', Readable.from([Buffer.from('x')])), 'unavailable');
  });
});

describe('mapS3Error', () => {
  const context = { op: 'GetObject', bucket: 'b', endpoint: 'http://s3.test' };
  const s3Error = (name: string, status: number) =>
    Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });

  it('maps throttling and server errors to unavailable', () => {
    for (const [name, status] of [
      ['SlowDown', 503],
      ['InternalError', 500],
      ['ServiceUnavailable', 503],
      ['RequestTimeout', 400],
    ] as const) {
      const err = mapS3Error(s3Error(name, status), context);
      expect(err.code, name).toBe('unavailable');
      expect(err.details).toMatchObject({ status, s3Code: name });
      expect(err.cause).toBeInstanceOf(Error);
    }
  });

  it('maps configuration faults to invalid_config and keeps TroveErrors', () => {
    expect(mapS3Error(s3Error('NoSuchBucket', 404), context).code).toBe('invalid_config');
    expect(mapS3Error(s3Error('AccessDenied', 403), context).code).toBe('invalid_config');
    const own = new TroveError('digest_mismatch', 'x');
    expect(mapS3Error(own, context)).toBe(own);
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    expect(mapS3Error(reset, context).message).toContain('http://s3.test');
  });
});
