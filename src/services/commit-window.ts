import type { ChunkRef, ManifestEntry } from '../core/types.js';

/** Where a commit's index check resumes: an entry, and how many of its chunk refs are done. */
export interface WindowPosition {
  /** Entries whose every chunk ref has been checked. */
  entriesChecked: number;
  /** Chunk refs of entry `entriesChecked` already checked (a window may end inside a file). */
  refsChecked: number;
}

/**
 * The slice of a manifest one commit call checks against the index: from a
 * saved position, at most `entries` entries and at most `refs` chunk refs,
 * whichever runs out first. Counting refs too bounds a call over a manifest of
 * a few huge files (one line may hold ~850k refs), so the window may end
 * inside a file and the next call resumes there. Each window takes at least
 * one entry or one ref, so every call makes progress.
 */
export class CommitWindow {
  private entries = 0;
  private refs = 0;
  private closed = false;
  private resume: WindowPosition;

  constructor(
    private readonly start: WindowPosition,
    private readonly budget: { entries: number; refs: number },
  ) {
    this.resume = { ...start };
  }

  /** The chunk refs of entry number `index` (in manifest order) that this window checks. */
  take(index: number, e: ManifestEntry): readonly ChunkRef[] {
    if (this.closed || index < this.start.entriesChecked) return [];
    const all = e.type === 'file' ? e.chunks : [];
    const from =
      index === this.start.entriesChecked ? Math.min(this.start.refsChecked, all.length) : 0;
    const to = Math.min(all.length, from + (this.budget.refs - this.refs));
    this.refs += to - from;
    this.entries++;
    if (to < all.length) {
      this.closed = true;
      this.resume = { entriesChecked: index, refsChecked: to };
    } else {
      this.resume = { entriesChecked: index + 1, refsChecked: 0 };
      this.closed = this.entries >= this.budget.entries || this.refs >= this.budget.refs;
    }
    return from === 0 && to === all.length ? all : all.slice(from, to);
  }

  /** True once the window is full: later entries belong to the next call. */
  get full(): boolean {
    return this.closed;
  }

  /** Where the next call resumes when every ref of this window is indexed. */
  get end(): WindowPosition {
    return this.resume;
  }
}
