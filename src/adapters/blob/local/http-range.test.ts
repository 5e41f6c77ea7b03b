import { describe, expect, it } from 'vitest';
import { parseRangeHeader } from './http-range.js';

describe('parseRangeHeader', () => {
  it('reads closed, open-ended and suffix ranges as [start, end)', () => {
    expect(parseRangeHeader('bytes=0-0', 10)).toEqual({ kind: 'partial', start: 0, end: 1 });
    expect(parseRangeHeader('bytes=2-5', 10)).toEqual({ kind: 'partial', start: 2, end: 6 });
    expect(parseRangeHeader('bytes=7-', 10)).toEqual({ kind: 'partial', start: 7, end: 10 });
    expect(parseRangeHeader('bytes=-3', 10)).toEqual({ kind: 'partial', start: 7, end: 10 });
    expect(parseRangeHeader('bytes=-30', 10)).toEqual({ kind: 'partial', start: 0, end: 10 });
    expect(parseRangeHeader('bytes=8-99', 10)).toEqual({ kind: 'partial', start: 8, end: 10 });
  });

  it('calls ranges starting at or past the end unsatisfiable', () => {
    expect(parseRangeHeader('bytes=10-12', 10)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRangeHeader('bytes=10-', 10)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRangeHeader('bytes=-0', 10)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRangeHeader('bytes=0-0', 0)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRangeHeader('bytes=-5', 0)).toEqual({ kind: 'unsatisfiable' });
  });

  it('ignores what it does not understand and serves the whole object', () => {
    for (const header of [undefined, 'bytes=0-1,3-4', 'items=0-1', 'bytes=5-2', 'bytes=-', 'x']) {
      expect(parseRangeHeader(header, 10), String(header)).toEqual({ kind: 'whole' });
    }
  });
});
