import { describe, expect, it } from 'vitest';
import { formatBytes, formatCount, formatDuration } from './io.js';
import { ProgressBar } from './progress.js';

function stream(isTTY: boolean) {
  const writes: string[] = [];
  return { writes, out: { isTTY, columns: 80, write: (t: string) => writes.push(t) } };
}

describe('ProgressBar', () => {
  it('draws nothing off a terminal or when disabled', () => {
    const a = stream(false);
    new ProgressBar(a.out).update('hash', 1, 2);
    const b = stream(true);
    const bar = new ProgressBar(b.out, false);
    bar.update('hash', 1, 2);
    bar.clear();
    expect(a.writes).toEqual([]);
    expect(b.writes).toEqual([]);
  });

  it('redraws at most every 100 ms, always on a phase change, and clears its line', () => {
    const s = stream(true);
    const bar = new ProgressBar(s.out);
    bar.update('hash', 10, 100);
    bar.update('hash', 20, 100);
    bar.update('hash', 30, 100);
    expect(s.writes).toHaveLength(1);
    expect(s.writes[0]).toContain('10%');
    bar.update('upload', 1, 4);
    expect(s.writes).toHaveLength(2);
    expect(s.writes[1]).toMatch(/^\r\x1b\[Kupload +\[#{6}\.{18}\] 25%/);
    bar.clear();
    expect(s.writes[2]).toBe('\r\x1b[K');
    bar.clear();
    expect(s.writes).toHaveLength(3);
  });
});

describe('formatting', () => {
  it('formats bytes, counts and durations', () => {
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(56_700_000)).toBe('56.7 MB');
    expect(formatBytes(1_234_000_000)).toBe('1.2 GB');
    expect(formatCount(1234)).toBe('1,234');
    expect(formatDuration(812)).toBe('0.8 s');
    expect(formatDuration(125_000)).toBe('2 min 5 s');
  });
});
