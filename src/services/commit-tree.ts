import { SymlinkRules } from '../core/symlink-rules.js';
import type { ManifestEntry } from '../core/types.js';
import { TroveError } from '../errors.js';

/**
 * Commit's half of invariant 11: the server accepts only trees every client
 * can restore. The manifest decoder already enforces pull's path rules
 * (entryPathProblem: no absolute, `..`, `.`, empty or NUL segment; no
 * duplicate; parents listed as directories first); this adds pull's symlink
 * rule, the same SymlinkRules object SafeTree applies, fed the entries in
 * manifest order. Memory grows with the symlinks only.
 */
export class CommitTreeCheck {
  private readonly rules = new SymlinkRules();

  /** Checks the next decoded entry; throws invalid_manifest naming it when pull would refuse it. */
  entry(e: ManifestEntry): void {
    if (e.type !== 'symlink') return;
    const problem = this.rules.accept(e.path, e.target);
    if (problem !== null)
      throw new TroveError(
        'invalid_manifest',
        `manifest entry ${JSON.stringify(e.path)} would be refused by every pull: ${problem}`,
        { path: e.path, target: e.target },
      );
  }
}
