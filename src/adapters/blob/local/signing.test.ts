import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TroveError } from '../../../errors.js';
import { LocalBlobStore } from './local-blob-store.js';
import { canonicalString, SIGNED_QUERY } from './signing.js';

const SHA = 'ab'.repeat(32);
const START = Date.UTC(2030, 0, 1);

function codeOf(run: () => unknown): string {
  try {
    run();
    return 'ok';
  } catch (err) {
    if (err instanceof TroveError) return err.code;
    throw err;
  }
}

/** Splits a signed relative URL into what the routes hand to verifySignedRequest. */
function parts(store: LocalBlobStore, url: string): { key: string; query: URLSearchParams } {
  const parsed = new URL(url, 'http://localhost');
  return {
    key: parsed.pathname.slice(store.pathPrefix.length + 1),
    query: parsed.searchParams,
  };
}

describe('signed URLs of LocalBlobStore', () => {
  let root: string;
  let clock = START;
  let store: LocalBlobStore;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'trove-sign-'));
    store = new LocalBlobStore({ root, secret: Buffer.alloc(32, 7), now: () => clock });
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('signs relative URLs under the path prefix with the documented parameters', async () => {
    const put = await store.presignPut('a/b', { size: 12, sha256: SHA, expiresInSeconds: 60 });
    expect(put.method).toBe('PUT');
    expect(put.headers).toEqual({ 'content-length': '12' });
    expect(put.expiresAt).toBe(new Date(START + 60_000).toISOString());
    const { key, query } = parts(store, put.url);
    expect(put.url.startsWith('/v1/blobs/a/b?')).toBe(true);
    expect(key).toBe('a/b');
    expect(query.get(SIGNED_QUERY.expires)).toBe(String((START + 60_000) / 1000));
    expect(query.get(SIGNED_QUERY.size)).toBe('12');
    expect(query.get(SIGNED_QUERY.sha256)).toBe(SHA);
    expect(store.verifySignedRequest('PUT', key, query)).toEqual({ size: 12, sha256: SHA });

    const get = await store.presignGet('a/b', { expiresInSeconds: 60 });
    const g = parts(store, get.url);
    expect(g.query.has(SIGNED_QUERY.size)).toBe(false);
    expect(store.verifySignedRequest('GET', g.key, g.query)).toEqual({});
    expect(store.verifySignedRequest('HEAD', g.key, g.query)).toEqual({});
  });

  it('puts every field on its own line of the canonical string', () => {
    expect(canonicalString({ method: 'GET', key: 'k', expires: '9' })).toBe(
      'TROVE-HMAC-SHA256-V1\nGET\nk\n9\n\n',
    );
  });

  it('refuses any single-character change to any signed parameter', async () => {
    const put = await store.presignPut('tenant/packs/0123abcd', {
      size: 4096,
      sha256: SHA,
      expiresInSeconds: 3600,
    });
    const { key, query } = parts(store, put.url);
    const fields = ['key', SIGNED_QUERY.expires, SIGNED_QUERY.size, SIGNED_QUERY.sha256];
    fields.push(SIGNED_QUERY.signature);
    const printable = fc.string({ minLength: 1, maxLength: 1, unit: 'grapheme-ascii' });
    fc.assert(
      fc.property(fc.constantFrom(...fields), fc.nat(), printable, (field, at, ch) => {
        const original = field === 'key' ? key : (query.get(field) ?? '');
        const i = at % original.length;
        fc.pre(original[i] !== ch);
        const changed = original.slice(0, i) + ch + original.slice(i + 1);
        const q = new URLSearchParams(query);
        if (field !== 'key') q.set(field, changed);
        const k = field === 'key' ? changed : key;
        expect(codeOf(() => store.verifySignedRequest('PUT', k, q))).toBe('signature_invalid');
      }),
      { numRuns: 500 },
    );
    expect(codeOf(() => store.verifySignedRequest('PUT', key, query))).toBe('ok');
  });

  it('refuses another method, missing, extra or repeated parameters', async () => {
    const put = await store.presignPut('k', { size: 1, sha256: SHA, expiresInSeconds: 60 });
    const { key, query } = parts(store, put.url);
    const variants: Array<[string, URLSearchParams]> = [
      ['GET', query],
      ['DELETE', query],
    ];
    for (const name of Object.values(SIGNED_QUERY)) {
      const without = new URLSearchParams(query);
      without.delete(name);
      variants.push(['PUT', without]);
      const repeated = new URLSearchParams(query);
      repeated.append(name, query.get(name) ?? '');
      variants.push(['PUT', repeated]);
    }
    for (const [method, q] of variants) {
      expect(
        codeOf(() => store.verifySignedRequest(method, key, q)),
        `${method} ${q}`,
      ).toBe('signature_invalid');
    }
    const get = await store.presignGet('k', { expiresInSeconds: 60 });
    const g = parts(store, get.url);
    const withSize = new URLSearchParams(g.query);
    withSize.set(SIGNED_QUERY.size, '1');
    expect(codeOf(() => store.verifySignedRequest('GET', g.key, withSize))).toBe(
      'signature_invalid',
    );
    expect(codeOf(() => store.verifySignedRequest('PUT', g.key, g.query))).toBe(
      'signature_invalid',
    );
  });

  it('refuses a URL signed with another secret', async () => {
    const other = new LocalBlobStore({ root, secret: Buffer.alloc(32, 8), now: () => clock });
    const put = await other.presignPut('k', { size: 1, sha256: SHA, expiresInSeconds: 60 });
    const { key, query } = parts(store, put.url);
    expect(codeOf(() => store.verifySignedRequest('PUT', key, query))).toBe('signature_invalid');
  });

  it('expires exactly at expiresAt, and a tampered expired URL is still a bad signature', async () => {
    clock = START;
    const get = await store.presignGet('k', { expiresInSeconds: 10 });
    const { key, query } = parts(store, get.url);
    clock = START + 9_999;
    expect(codeOf(() => store.verifySignedRequest('GET', key, query))).toBe('ok');
    clock = START + 10_000;
    expect(codeOf(() => store.verifySignedRequest('GET', key, query))).toBe('url_expired');
    const later = new URLSearchParams(query);
    later.set(SIGNED_QUERY.expires, String(Number(query.get(SIGNED_QUERY.expires)) + 3600));
    expect(codeOf(() => store.verifySignedRequest('GET', key, later))).toBe('signature_invalid');
    clock = START;
  });

  it('rounds expiry up so a URL lives at least as long as asked', async () => {
    clock = START + 1;
    const get = await store.presignGet('k', { expiresInSeconds: 1 });
    expect(Date.parse(get.expiresAt)).toBe(START + 2_000);
    clock = START;
  });
});
