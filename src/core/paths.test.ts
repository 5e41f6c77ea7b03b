import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TroveError } from '../errors.js';
import { comparePaths, isSafeSymlink, validateEntryPath } from './paths.js';

describe('comparePaths', () => {
  it('matches Buffer.compare of the UTF-8 bytes (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'grapheme' }), (a, b) => {
        const want = Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b)));
        expect(Math.sign(comparePaths(a, b))).toBe(want);
      }),
      { numRuns: 2000 },
    );
    expect(comparePaths('\uffff', '😀')).toBeLessThan(0);
    expect(comparePaths('a', 'a/b')).toBeLessThan(0);
    expect(comparePaths('a-b', 'a/b')).toBeLessThan(0);
  });
});

describe('validateEntryPath', () => {
  it('accepts relative POSIX paths, backslashes included', () => {
    for (const p of ['a', 'a/b/c', 'dir\\name', '.hidden', '..x', 'é/😀', 'a'.repeat(255)])
      validateEntryPath(p);
  });
  it('rejects unsafe or non-canonical paths', () => {
    const bad = [
      '',
      '/a',
      'a/',
      'a//b',
      '.',
      './a',
      'a/..',
      '..',
      'a\0b',
      'x\ud800',
      'a'.repeat(256),
      `${'a/'.repeat(2048)}b`,
      'é'.repeat(128),
    ];
    for (const p of bad) {
      expect(() => validateEntryPath(p), JSON.stringify(p)).toThrow(TroveError);
    }
  });
});

describe('isSafeSymlink', () => {
  it('allows targets inside the tree', () => {
    expect(isSafeSymlink('a/b/l', '../../x')).toBe(true);
    expect(isSafeSymlink('l', 'x/./y')).toBe(true);
    expect(isSafeSymlink('a/l', '..')).toBe(true);
  });
  it('refuses absolute or escaping targets', () => {
    expect(isSafeSymlink('l', '/etc/passwd')).toBe(false);
    expect(isSafeSymlink('l', '..')).toBe(false);
    expect(isSafeSymlink('a/b/l', '../../../x')).toBe(false);
    expect(isSafeSymlink('a/l', '../../a/x')).toBe(false);
    expect(isSafeSymlink('l', '')).toBe(false);
  });
});
