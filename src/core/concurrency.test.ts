import { describe, expect, it } from 'vitest';
import { delay, mapLimit } from './concurrency.js';

describe('mapLimit', () => {
  it('keeps result order and never exceeds the limit', async () => {
    let inFlight = 0;
    let peak = 0;
    const out = await mapLimit([5, 1, 4, 2, 3, 0], 2, async (n, i) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await delay(n * 2);
      inFlight--;
      return n * 10 + i;
    });
    expect(out).toEqual([50, 11, 42, 23, 34, 5]);
    expect(peak).toBe(2);
  });

  it('handles no items and a limit above the item count', async () => {
    expect(await mapLimit([], 4, async () => 1)).toEqual([]);
    expect(await mapLimit([1], 8, async (n) => n)).toEqual([1]);
  });

  it('on the first failure starts nothing new, waits for calls in flight, rethrows the first error', async () => {
    const started: number[] = [];
    const finished: number[] = [];
    const failures: unknown[] = [];
    const run = mapLimit(
      [0, 1, 2, 3, 4, 5],
      2,
      async (n) => {
        started.push(n);
        if (n === 0) {
          await delay(1);
          throw new Error('first');
        }
        if (n === 1) {
          await delay(30);
          finished.push(n);
          throw new Error('second');
        }
        finished.push(n);
      },
      { onFail: (err) => failures.push(err) },
    );
    await expect(run).rejects.toThrow('first');
    // Item 1 was in flight: awaited before the promise settled; nothing after it started.
    expect(finished).toEqual([1]);
    expect(started).toEqual([0, 1]);
    expect(failures).toHaveLength(1);
    expect((failures[0] as Error).message).toBe('first');
  });
});

describe('delay', () => {
  it('resolves after the time', async () => {
    const t = performance.now();
    await delay(20);
    expect(performance.now() - t).toBeGreaterThanOrEqual(15);
  });

  it('rejects at once with the reason when the signal aborts, or has aborted', async () => {
    const ac = new AbortController();
    const reason = new Error('stop');
    const t = performance.now();
    const waiting = delay(10_000, ac.signal);
    setTimeout(() => ac.abort(reason), 10);
    await expect(waiting).rejects.toBe(reason);
    expect(performance.now() - t).toBeLessThan(1000);
    await expect(delay(10, AbortSignal.abort(reason))).rejects.toBe(reason);
  });
});
