import { describe, expect, it } from 'vitest';
import type { ManifestEntry } from '../core/types.js';
import { CommitWindow, type WindowPosition } from './commit-window.js';

const file = (path: string, refs: number): ManifestEntry => ({
  path,
  type: 'file',
  executable: false,
  size: refs,
  chunks: Array.from({ length: refs }, (_, i) => ({ digest: `${path}:${i}`, size: 1 })),
});
const dir = (path: string): ManifestEntry => ({ path, type: 'dir' });

/** Runs windows over `entries` until done; returns the refs each window took. */
function windows(entries: ManifestEntry[], budget: { entries: number; refs: number }) {
  const taken: string[][] = [];
  let at: WindowPosition = { entriesChecked: 0, refsChecked: 0 };
  while (at.entriesChecked < entries.length) {
    const w = new CommitWindow(at, budget);
    const refs: string[] = [];
    entries.forEach((e, i) => {
      for (const c of w.take(i, e)) refs.push(c.digest);
    });
    taken.push(refs);
    at = w.end;
  }
  return taken;
}

describe('CommitWindow', () => {
  it('ends inside a file at the ref budget and resumes there, every ref once', () => {
    const entries = [dir('d'), file('d/a', 3), file('d/b', 7), file('d/c', 0), file('d/e', 2)];
    const taken = windows(entries, { entries: 100, refs: 4 });
    expect(taken.map((t) => t.length)).toEqual([4, 4, 4]);
    expect(taken.flat()).toEqual(
      entries.flatMap((e) => (e.type === 'file' ? e.chunks : [])).map((c) => c.digest),
    );
  });

  it('counts entries without refs against the entry budget', () => {
    const entries = [dir('a'), dir('b'), dir('c'), file('d', 1)];
    const taken = windows(entries, { entries: 2, refs: 100 });
    expect(taken).toEqual([[], ['d:0']]);
  });

  it('reports the resume point inside an entry', () => {
    const w = new CommitWindow({ entriesChecked: 1, refsChecked: 2 }, { entries: 10, refs: 3 });
    expect(w.take(0, file('a', 5))).toEqual([]);
    expect(w.take(1, file('b', 9)).map((c) => c.digest)).toEqual(['b:2', 'b:3', 'b:4']);
    expect(w.full).toBe(true);
    expect(w.end).toEqual({ entriesChecked: 1, refsChecked: 5 });
  });
});
