import ignore, { type Ignore } from 'ignore';

/** Name of the per-directory ignore file (gitignore syntax). */
export const IGNORE_FILE = '.troveignore';

interface Scope {
  /** Tree path of the directory the rules belong to ('' for the root). */
  base: string;
  /** The compiled rules. */
  rules: Ignore;
}

/**
 * The ignore rules in force inside one directory: the `.troveignore` files
 * of the directory and of each ancestor (deeper files win, as in git), then
 * the extra patterns given on the command line, which win over every file
 * and are matched relative to the root. Immutable: `child` returns a new set.
 */
export class IgnoreRules {
  private readonly scopes: readonly Scope[];
  private readonly extras: Ignore | null;

  private constructor(scopes: readonly Scope[], extras: Ignore | null) {
    this.scopes = scopes;
    this.extras = extras;
  }

  /** Rules at the root, before its `.troveignore` is read. */
  static root(extraPatterns: readonly string[] = []): IgnoreRules {
    const extras = extraPatterns.length > 0 ? ignore().add([...extraPatterns]) : null;
    return new IgnoreRules([], extras);
  }

  /** The rules inside directory `dir` (tree path, '' for the root) whose ignore file holds `text`. */
  child(dir: string, text: string | null): IgnoreRules {
    if (text === null || text.trim() === '') return this;
    return new IgnoreRules([...this.scopes, { base: dir, rules: ignore().add(text) }], this.extras);
  }

  /** True when the entry at tree path `path` is excluded. */
  ignores(path: string, isDir: boolean): boolean {
    const suffix = isDir ? '/' : '';
    let ignored = false;
    for (const scope of this.scopes) {
      const rel = scope.base === '' ? path : path.slice(scope.base.length + 1);
      const r = scope.rules.test(rel + suffix);
      if (r.ignored) ignored = true;
      else if (r.unignored) ignored = false;
    }
    if (this.extras !== null) {
      const r = this.extras.test(path + suffix);
      if (r.ignored) ignored = true;
      else if (r.unignored) ignored = false;
    }
    return ignored;
  }
}
