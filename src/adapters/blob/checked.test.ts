import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isValidBlobKey, MAX_BLOB_KEY_LENGTH } from './checked.js';

const SEGMENT_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-';
const segment = fc
  .string({ unit: fc.constantFrom(...SEGMENT_CHARS), minLength: 1, maxLength: 20 })
  .filter((s) => s !== '.' && s !== '..');

describe('isValidBlobKey', () => {
  it('accepts the keys services build', () => {
    for (const key of [
      'a',
      'tenants/t1/packs/ab/abcdef0123',
      'x/.hidden/y',
      'v-1_2.3',
      '...',
      'a'.repeat(MAX_BLOB_KEY_LENGTH),
    ]) {
      expect(isValidBlobKey(key), key).toBe(true);
    }
  });

  it('rejects empty, dot and dot-dot segments, odd characters and overlong keys', () => {
    for (const key of [
      '',
      '/',
      '/a',
      'a/',
      'a//b',
      '.',
      '..',
      'a/./b',
      'a/../b',
      '../a',
      'a b',
      'a%2Fb',
      'a\\b',
      'a\nb',
      'é',
      'a?b',
      'a'.repeat(MAX_BLOB_KEY_LENGTH + 1),
    ]) {
      expect(isValidBlobKey(key), JSON.stringify(key)).toBe(false);
    }
    expect(isValidBlobKey(undefined)).toBe(false);
    expect(isValidBlobKey(42)).toBe(false);
  });

  it('accepts any join of valid segments within the length limit', () => {
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 10 }), (segments) => {
        expect(isValidBlobKey(segments.join('/'))).toBe(true);
      }),
    );
  });

  it('rejects a valid key with any character outside the alphabet inserted', () => {
    const outside = fc
      .string({ minLength: 1, maxLength: 1, unit: 'binary' })
      .filter((ch) => !SEGMENT_CHARS.includes(ch) && ch !== '/');
    fc.assert(
      fc.property(
        fc.array(segment, { minLength: 1, maxLength: 5 }),
        outside,
        fc.nat(),
        (segments, ch, at) => {
          const key = segments.join('/');
          const i = at % (key.length + 1);
          expect(isValidBlobKey(key.slice(0, i) + ch + key.slice(i))).toBe(false);
        },
      ),
    );
  });
});
