import { describe, expect, it } from 'vitest';
import { TroveError } from '../../../errors.js';
import { checkedBlobStore } from '../checked.js';
import { S3BlobStore } from './s3-blob-store.js';

// Presigning is local computation: no server is contacted.
const credentials = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};
const sha256 = 'a'.repeat(64);
const base64 = Buffer.from(sha256, 'hex').toString('base64');

function storeFor(extra: { endpoint?: string; forcePathStyle?: boolean; prefix?: string } = {}) {
  return checkedBlobStore(
    new S3BlobStore({ bucket: 'trove-bucket', region: 'eu-west-1', credentials, ...extra }),
  );
}

describe('S3BlobStore presigned requests', () => {
  it('signs length, checksum and If-None-Match as headers, not query parameters', async () => {
    const put = await storeFor().presignPut('t/default/packs/ab/cd', {
      size: 1234,
      sha256,
      expiresInSeconds: 600,
    });
    const url = new URL(put.url);
    expect(url.host).toBe('trove-bucket.s3.eu-west-1.amazonaws.com');
    expect(url.pathname).toBe('/t/default/packs/ab/cd');
    const signed = url.searchParams.get('X-Amz-SignedHeaders')?.split(';');
    expect(signed).toEqual(['content-length', 'host', 'if-none-match', 'x-amz-checksum-sha256']);
    const names = [...url.searchParams.keys()].map((k) => k.toLowerCase());
    for (const name of names) expect(name).not.toMatch(/checksum|content-length|if-none-match/);
    expect(url.searchParams.get('X-Amz-Expires')).toBe('600');
    expect(url.searchParams.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
    expect(url.searchParams.get('X-Amz-Credential')).toMatch(
      /^AKIDEXAMPLE\/\d{8}\/eu-west-1\/s3\/aws4_request$/,
    );
    expect(put.method).toBe('PUT');
    expect(put.headers).toEqual({
      'content-length': '1234',
      'x-amz-checksum-sha256': base64,
      'if-none-match': '*',
    });
    const expires = Date.parse(put.expiresAt);
    expect(expires).toBeGreaterThan(Date.now() + 598_000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 600_000);
  });

  it('honours the expiry of a presigned GET and signs only host', async () => {
    const get = await storeFor().presignGet('t/default/archives/v.tar.zst', {
      expiresInSeconds: 7 * 24 * 3600,
    });
    const url = new URL(get.url);
    expect(url.searchParams.get('X-Amz-Expires')).toBe(String(7 * 24 * 3600));
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('host');
    expect(get).toMatchObject({ method: 'GET', headers: {} });
    expect(Date.parse(get.expiresAt)).toBeGreaterThan(Date.now() + 7 * 24 * 3600 * 1000 - 2000);
  });

  it('puts the prefix and path-style bucket into the URL', async () => {
    const store = storeFor({
      endpoint: 'http://127.0.0.1:9000',
      forcePathStyle: true,
      prefix: 'tenants/',
    });
    const put = await store.presignPut('t/x/packs/p', { size: 0, sha256, expiresInSeconds: 60 });
    expect(new URL(put.url).pathname).toBe('/trove-bucket/tenants/t/x/packs/p');
    const get = await store.presignGet('t/x/packs/p', { expiresInSeconds: 60 });
    expect(get.url.startsWith('http://127.0.0.1:9000/trove-bucket/tenants/t/x/packs/p?')).toBe(
      true,
    );
  });

  it('refuses bad options as invalid_config', () => {
    for (const bad of [
      { bucket: '' },
      { bucket: 'b', partSizeBytes: 1024 },
      { bucket: 'b', partConcurrency: 0 },
      { bucket: 'b', prefix: '/abs' },
      { bucket: 'b', prefix: 'a//b' },
    ]) {
      let err: unknown;
      try {
        new S3BlobStore({ credentials, ...bad });
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(bad)).toBeInstanceOf(TroveError);
      expect((err as TroveError).code).toBe('invalid_config');
    }
  });
});
