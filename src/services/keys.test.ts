import { describe, expect, it } from 'vitest';
import { isValidBlobKey } from '../adapters/blob/checked.js';
import { archiveKey, deltaCacheKey, deltaKey, manifestKey, packKey } from './keys.js';

const id = 'ab'.repeat(32);
const session = '0b6f2c9e-6d1a-4c3b-9f3e-2a7d5c1e8b40';

describe('object keys', () => {
  it('scopes every key by tenant and fans packs out by prefix', () => {
    expect(packKey('default', id)).toBe(`t/default/packs/ab/${id}`);
    expect(manifestKey('default', id)).toBe(`t/default/manifests/${id}`);
    expect(deltaKey('default', session)).toBe(`t/default/deltas/${session}`);
    expect(deltaCacheKey('default', id, 'cd'.repeat(32))).toBe(
      `t/default/delta-cache/${id}-${'cd'.repeat(32)}`,
    );
    expect(archiveKey('default', id, 'tar.gz')).toBe(`t/default/archives/${id}.tar.gz`);
    expect(archiveKey('acme', id, 'tar.zst')).toBe(`t/acme/archives/${id}.tar.zst`);
  });

  it('builds keys the blob store accepts', () => {
    for (const key of [
      packKey('a', id),
      manifestKey('a', id),
      deltaKey('a', session),
      deltaCacheKey('a', id, id),
      archiveKey('a', id, 'tar.zst'),
    ]) {
      expect(isValidBlobKey(key)).toBe(true);
    }
  });
});
