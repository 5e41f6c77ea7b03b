import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { check, measure } from '../proc.js';
import { combine, dirBytes, type OpSample, type StoredBytes, type Tool } from './tool.js';

/**
 * restic with a local repository, as its docs recommend: `restic init`
 * (repository format 2, which compresses), `backup --compression auto`
 * from inside the tree, `restore SNAPSHOT --target DIR`. restic 0.14 cannot
 * restore over an older tree (existing symlinks fail with "file exists",
 * deleted files stay; `--delete` and `--overwrite` came in 0.17), so moving
 * to the next version is a full restore into a fresh directory swapped in
 * for the old one, as a user of this version has to do.
 */

export class ResticTool implements Tool {
  readonly name = 'restic';
  private readonly repo: string;
  private readonly env: NodeJS.ProcessEnv;
  private readonly snapshots: string[] = [];

  private constructor(private readonly base: string) {
    this.repo = join(base, 'restic-repo');
    this.env = {
      RESTIC_REPOSITORY: this.repo,
      RESTIC_PASSWORD: 'trove-bench',
      RESTIC_CACHE_DIR: join(base, 'restic-cache'),
      RESTIC_PROGRESS_FPS: '0.2',
    };
  }

  static async start(base: string): Promise<ResticTool> {
    const tool = new ResticTool(base);
    check('restic init', await measure('restic', ['init'], { env: tool.env }));
    return tool;
  }

  async push(ws: string, v: number): Promise<OpSample> {
    const before = dirBytes(this.repo);
    const m = check(
      'restic backup',
      await measure('restic', ['backup', '--compression', 'auto', '--json', '.'], {
        cwd: ws,
        env: this.env,
      }),
    );
    const summary = m.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { message_type?: string; snapshot_id?: string })
      .find((x) => x.message_type === 'summary');
    if (summary?.snapshot_id === undefined) throw new Error('restic backup printed no summary');
    this.snapshots[v] = summary.snapshot_id;
    return combine([m], dirBytes(this.repo) - before);
  }

  private snapshot(v: number): string {
    const id = this.snapshots[v];
    if (id === undefined) throw new Error(`restic: version ${v} was not backed up`);
    return id;
  }

  async restore(v: number, dest: string): Promise<OpSample> {
    // A cold restore is on another machine: no local metadata cache.
    const cache = join(this.base, 'restic-cold-cache');
    rmSync(cache, { recursive: true, force: true });
    mkdirSync(dest, { recursive: true });
    const args = ['restore', this.snapshot(v), '--target', dest];
    const m = await measure('restic', args, { env: { ...this.env, RESTIC_CACHE_DIR: cache } });
    return combine([check('restic restore', m)], null);
  }

  async update(v: number, dest: string): Promise<OpSample> {
    const start = performance.now();
    const next = `${dest}.next`;
    rmSync(next, { recursive: true, force: true });
    const args = ['restore', this.snapshot(v), '--target', next];
    const m = check('restic restore', await measure('restic', args, { env: this.env }));
    rmSync(dest, { recursive: true, force: true });
    renameSync(next, dest);
    return { ...combine([m], null), ms: performance.now() - start };
  }

  stored(): StoredBytes {
    return { total: dirBytes(this.repo) };
  }

  async close(): Promise<Record<string, number | null>> {
    return {};
  }
}
