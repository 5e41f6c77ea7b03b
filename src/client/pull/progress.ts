/** A progress report of a pull. */
export interface PullProgress {
  /** What the pull is doing. */
  phase: 'resolve' | 'manifest' | 'archive' | 'packs' | 'swap' | 'done';
  /** Bytes received so far (manifest, archive, ranges). */
  bytesDownloaded: number;
  /** File bytes written into the new tree so far. */
  bytesWritten: number;
  /** File bytes of the version (0 until the manifest is known). */
  totalBytes: number;
}

/** Least time between two reports within one phase: byte counters tick per slice. */
const INTERVAL_MS = 200;

/** Accumulates a pull's counters and reports them on phase changes and at most every 200 ms. */
export class ProgressTracker {
  /** The current numbers. */
  readonly state: PullProgress = {
    phase: 'resolve',
    bytesDownloaded: 0,
    bytesWritten: 0,
    totalBytes: 0,
  };
  private last = 0;
  private readonly listener: ((p: PullProgress) => void) | undefined;

  /** Reports to `listener`, if any. */
  constructor(listener: ((p: PullProgress) => void) | undefined) {
    this.listener = listener;
  }

  /** Enters a phase (always reported). */
  phase(phase: PullProgress['phase']): void {
    this.state.phase = phase;
    this.emit();
  }

  /** Counts bytes received; bound so it can be passed as a callback. */
  readonly downloaded = (n: number): void => {
    this.state.bytesDownloaded += n;
    this.tick();
  };

  /** Counts file bytes written; bound so it can be passed as a callback. */
  readonly written = (n: number): void => {
    this.state.bytesWritten += n;
    this.tick();
  };

  private tick(): void {
    if (this.listener && performance.now() - this.last >= INTERVAL_MS) this.emit();
  }

  private emit(): void {
    this.last = performance.now();
    this.listener?.({ ...this.state });
  }
}
