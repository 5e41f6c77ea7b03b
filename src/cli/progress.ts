import type { Writable } from './io.js';
import { formatBytes } from './io.js';

/** Shortest interval between two redraws. */
const REDRAW_MS = 100;

/**
 * A one-line progress bar on stderr, drawn only on a terminal, redrawn at
 * most ten times a second, erased by `clear`. Off a terminal every call is a
 * no-op, so commands can report unconditionally.
 */
export class ProgressBar {
  private readonly out: Writable;
  private readonly enabled: boolean;
  private last = 0;
  private drawn = false;
  private phase = '';
  private phaseStart = 0;

  /** `enabled` false (e.g. with --json) keeps the bar silent even on a terminal. */
  constructor(out: Writable, enabled = true) {
    this.out = out;
    this.enabled = enabled && out.isTTY === true;
  }

  /** Reports progress of a phase; `total` 0 means unknown. `force` redraws now. */
  update(phase: string, done: number, total: number, note = '', force = false): void {
    if (!this.enabled) return;
    const now = performance.now();
    if (phase !== this.phase) {
      this.phase = phase;
      this.phaseStart = now;
      force = true;
    }
    if (!force && now - this.last < REDRAW_MS) return;
    this.last = now;
    const secs = (now - this.phaseStart) / 1000;
    const rate = secs > 0.2 && done > 0 ? ` ${formatBytes(done / secs)}/s` : '';
    const width = 24;
    let bar = '';
    let amount = '';
    if (total > 0) {
      const frac = Math.min(1, done / total);
      const full = Math.round(frac * width);
      bar = ` [${'#'.repeat(full)}${'.'.repeat(width - full)}] ${Math.floor(frac * 100)}%`;
      amount = ` ${formatBytes(done)}/${formatBytes(total)}`;
    } else if (done > 0) {
      amount = ` ${formatBytes(done)}`;
    }
    const line = `${phase.padEnd(8)}${bar}${amount}${rate}${note ? ` ${note}` : ''}`;
    const cols = this.out.columns ?? 100;
    this.out.write(`\r\x1b[K${line.slice(0, Math.max(10, cols - 1))}`);
    this.drawn = true;
  }

  /** Erases the bar. */
  clear(): void {
    if (!this.drawn) return;
    this.out.write('\r\x1b[K');
    this.drawn = false;
  }
}
