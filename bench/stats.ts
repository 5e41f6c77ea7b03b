/** Median and human formatting for the report. */

/** Median of the finite numbers among `xs`, or null when there are none. */
export function median(xs: readonly (number | null | undefined)[]): number | null {
  const v = xs.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
  if (v.length === 0) return null;
  v.sort((a, b) => a - b);
  const mid = v.length >> 1;
  return v.length % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

/** Milliseconds as "850 ms" / "2.41 s". */
export function fmtMs(ms: number | null): string {
  if (ms === null) return 'n/a';
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

/** Bytes as B / KiB / MiB. */
export function fmtBytes(b: number | null): string {
  if (b === null) return 'n/a';
  if (b < 1024) return `${Math.round(b)} B`;
  if (b < 1024 * 1024) return `${(b / 1024).toFixed(1)} KiB`;
  return `${(b / 1024 / 1024).toFixed(1)} MiB`;
}

/** KiB of RSS as MiB. */
export function fmtRss(kib: number | null): string {
  return kib === null ? 'n/a' : `${(kib / 1024).toFixed(0)} MiB`;
}

/** A plain count. */
export function fmtCount(n: number | null): string {
  return n === null ? 'n/a' : String(Math.round(n));
}

/** a ÷ b as "12.3×", n/a when either is missing or b is 0. */
export function ratio(a: number | null, b: number | null): number | null {
  return a === null || b === null || b === 0 ? null : a / b;
}

/** A ratio for the table. */
export function fmtRatio(r: number | null): string {
  if (r === null) return 'n/a';
  return r >= 100 ? `${Math.round(r)}×` : `${r.toFixed(2)}×`;
}
