/** Options of mapLimit. */
export interface MapLimitOptions {
  /**
   * Called once, with the first failure, as soon as it happens (before the
   * calls in flight settle): e.g. to abort them rather than let them finish.
   */
  onFail?: (err: unknown) => void;
}

/**
 * Runs `fn` over `items` with at most `limit` calls in flight and returns
 * the results in item order.
 *
 * Failure semantics: on the first failure no new item is started, `onFail`
 * is called, the calls already in flight are awaited (whatever they do), and
 * then the first error is rethrown. So no work outlives the returned promise,
 * and later errors are dropped.
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
  options: MapLimitOptions = {},
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { err: unknown } | null = null;
  const lane = async (): Promise<void> => {
    while (failure === null && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i] as T, i);
      } catch (err) {
        if (failure === null) {
          failure = { err };
          options.onFail?.(err);
        }
      }
    }
  };
  const lanes = Math.max(1, Math.min(Math.floor(limit) || 1, items.length));
  await Promise.all(Array.from({ length: lanes }, lane));
  if (failure !== null) throw (failure as { err: unknown }).err;
  return results;
}

/**
 * Resolves after `ms` milliseconds. When `signal` aborts first (or already
 * has), rejects at once with the signal's reason and clears the timer.
 */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
