import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { check, measure } from '../proc.js';
import { combine, dirBytes, type OpSample, type StoredBytes, type Tool } from './tool.js';

/**
 * BorgBackup 1.2 with a local repository, as its docs recommend for this
 * case: `borg init --encryption none`, `borg create --compression zstd,3`
 * from inside the tree, `borg extract` in the target directory. Like restic,
 * extracting over an older tree leaves files the new version deleted; the
 * bench removes those after the timed extract, before verifying.
 */

export class BorgTool implements Tool {
  readonly name = 'borg';
  readonly keepsDeletedFiles = true;
  private readonly repo: string;
  private readonly env: NodeJS.ProcessEnv;

  private constructor(base: string) {
    this.repo = join(base, 'borg-repo');
    this.env = {
      BORG_REPO: this.repo,
      // Cache, keys and security state per run, so runs do not share a files cache.
      BORG_BASE_DIR: join(base, 'borg-home'),
      BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK: 'yes',
      BORG_RELOCATED_REPO_ACCESS_IS_OK: 'yes',
    };
  }

  static async start(base: string): Promise<BorgTool> {
    const tool = new BorgTool(base);
    check('borg init', await measure('borg', ['init', '--encryption', 'none'], { env: tool.env }));
    return tool;
  }

  async push(ws: string, v: number): Promise<OpSample> {
    const before = dirBytes(this.repo);
    const args = ['create', '--compression', 'zstd,3', `::v${v}`, '.'];
    const m = check('borg create', await measure('borg', args, { cwd: ws, env: this.env }));
    return combine([m], dirBytes(this.repo) - before);
  }

  async restore(v: number, dest: string): Promise<OpSample> {
    mkdirSync(dest, { recursive: true });
    return this.update(v, dest);
  }

  async update(v: number, dest: string): Promise<OpSample> {
    const m = await measure('borg', ['extract', `::v${v}`], { cwd: dest, env: this.env });
    return combine([check('borg extract', m)], null);
  }

  stored(): StoredBytes {
    return { total: dirBytes(this.repo) };
  }

  async close(): Promise<Record<string, number | null>> {
    return {};
  }
}
