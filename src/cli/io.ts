/** Where a CLI run writes, and what it reads from its environment. */
export interface CliIo {
  /** Results (one JSON object with --json). */
  stdout: Writable;
  /** Progress, warnings, errors and summaries. */
  stderr: Writable;
  /** Environment variables (read only by options.ts and the serve command). */
  env: NodeJS.ProcessEnv;
}

/** The part of a stream the CLI uses. */
export interface Writable {
  /** Writes text. */
  write(text: string): unknown;
  /** True when the stream is a terminal (progress bars are drawn only then). */
  isTTY?: boolean;
  /** Terminal width, when known. */
  columns?: number;
}

/** The process's real streams and environment. */
export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env };
}

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB'];

/** Human byte count in decimal units: 56.7 MB. */
export function formatBytes(n: number): string {
  let v = n;
  let u = 0;
  while (v >= 1000 && u < UNITS.length - 1) {
    v /= 1000;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(v >= 100 ? 0 : 1)} ${UNITS[u]}`;
}

/** Count with thousands separators: 1,234. */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** Duration: 0.8 s, 12 s, 3 min 4 s. */
export function formatDuration(ms: number): string {
  const s = ms / 1000;
  if (s < 10) return `${s.toFixed(1)} s`;
  if (s < 60) return `${Math.round(s)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

/** The short form of a version id used in human output. */
export function shortId(id: string | null): string {
  return id === null ? '-' : id.slice(0, 8);
}

/** Plural helper: "1 file", "2 files". */
export function plural(n: number, word: string): string {
  return `${formatCount(n)} ${word}${n === 1 ? '' : 's'}`;
}
