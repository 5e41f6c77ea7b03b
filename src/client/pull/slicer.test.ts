import { describe, expect, it } from 'vitest';
import { bytes } from '../../testing/pull-fixtures.js';
import { Slicer } from './slicer.js';

describe('Slicer', () => {
  it('hands out exact slices across part boundaries and gaps, holding about one slice', () => {
    const stream = bytes(8 * 1024 * 1024, 5);
    // Slices of varied sizes (up to 256 KiB) with small gaps between some of them.
    const slices: { offset: number; size: number }[] = [];
    for (let at = 0, i = 0; ; i++) {
      const size = 1 + ((i * 7919) % (256 * 1024));
      if (at + size > stream.length) break;
      slices.push({ offset: at, size });
      at += size + (i % 3 === 0 ? 17 : 0);
    }
    const part = 64 * 1024;
    const s = new Slicer();
    let next = 0;
    let maxHeld = 0;
    for (let at = 0; at < stream.length; at += part) {
      s.add(stream.subarray(at, at + part));
      for (;;) {
        const want = slices[next];
        if (!want) break;
        const got = s.take(want.offset, want.size);
        if (got === null) break;
        expect(got.equals(stream.subarray(want.offset, want.offset + want.size))).toBe(true);
        next++;
      }
      maxHeld = Math.max(maxHeld, s.buffered);
    }
    expect(next).toBe(slices.length);
    // Never the whole stream: the last slice handed out, the next one arriving, and a part.
    expect(maxHeld).toBeLessThanOrEqual(2 * 256 * 1024 + 2 * part);
  });
});
