import { join } from 'node:path';
import { check, type Measured, measure } from '../proc.js';
import { combine, dirBytes, type OpSample, type StoredBytes, type Tool } from './tool.js';

/**
 * git as a user would version a tree with it: `git add -A` + `git commit`
 * into a repository kept outside the tree (so no other tool sees .git),
 * `git clone --no-local` (a real pack transfer, not hard links) to restore,
 * `git fetch` + `git checkout` to move a clone to the next commit, and
 * `git gc --aggressive` before the final size. Automatic gc is off so it
 * never runs in the background of another tool's measurement.
 */

const IDENTITY = {
  GIT_AUTHOR_NAME: 'bench',
  GIT_AUTHOR_EMAIL: 'bench@example.invalid',
  GIT_COMMITTER_NAME: 'bench',
  GIT_COMMITTER_EMAIL: 'bench@example.invalid',
  GIT_CONFIG_NOSYSTEM: '1',
};

export class GitTool implements Tool {
  readonly name = 'git';
  readonly metaDir = '.git';
  readonly dropsEmptyDirs = true;
  private readonly repo: string;
  private readonly commits: string[] = [];

  private constructor(base: string) {
    this.repo = join(base, 'git-repo');
  }

  private async git(args: string[], cwd?: string): Promise<Measured> {
    const m = await measure('git', ['-c', 'gc.auto=0', ...args], {
      env: IDENTITY,
      ...(cwd !== undefined ? { cwd } : {}),
    });
    return check(`git ${args.find((a) => !a.startsWith('-')) ?? ''}`, m);
  }

  static async start(base: string): Promise<GitTool> {
    const tool = new GitTool(base);
    await tool.git(['init', '-q', '-b', 'main', tool.repo]);
    await tool.git(['-C', tool.repo, 'config', 'gc.auto', '0']);
    return tool;
  }

  async push(ws: string, v: number): Promise<OpSample> {
    const before = dirBytes(this.repo);
    const tree = [`--git-dir=${join(this.repo, '.git')}`, `--work-tree=${ws}`];
    const add = await this.git([...tree, 'add', '-A']);
    const commit = await this.git([...tree, 'commit', '-q', '--allow-empty', '-m', `v${v}`]);
    const head = await this.git([...tree, 'rev-parse', 'HEAD']);
    this.commits[v] = head.stdout.trim();
    return combine([add, commit], dirBytes(this.repo) - before);
  }

  private commit(v: number): string {
    const c = this.commits[v];
    if (c === undefined) throw new Error(`git: version ${v} was not committed`);
    return c;
  }

  async restore(v: number, dest: string): Promise<OpSample> {
    const clone = await this.git(['clone', '-q', '--no-local', '--no-checkout', this.repo, dest]);
    const co = await this.git(
      ['-c', 'advice.detachedHead=false', 'checkout', '-q', this.commit(v)],
      dest,
    );
    return combine([clone, co], null);
  }

  async update(v: number, dest: string): Promise<OpSample> {
    const fetch = await this.git(['fetch', '-q', 'origin'], dest);
    const co = await this.git(
      ['-c', 'advice.detachedHead=false', 'checkout', '-q', this.commit(v)],
      dest,
    );
    return combine([fetch, co], null);
  }

  async compact(): Promise<OpSample> {
    return combine([await this.git(['-C', this.repo, 'gc', '-q', '--aggressive'])], null);
  }

  stored(): StoredBytes {
    return { total: dirBytes(join(this.repo, '.git')) };
  }

  async close(): Promise<Record<string, number | null>> {
    return {};
  }
}
