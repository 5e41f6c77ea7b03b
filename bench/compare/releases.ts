import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { join } from 'node:path';

/**
 * Real history: successive published releases of npm packages, fetched once
 * with `npm pack` into the bench cache and extracted. Pushing release N+1
 * after N is what a tool sees when a build output or vendored dependency
 * moves forward: a few large files changing a little (typescript) or
 * thousands of small files (date-fns).
 */

/** Pinned so every machine benches the same bytes, oldest first. */
export const RELEASES: Record<string, string[]> = {
  typescript: ['5.4.2', '5.4.3', '5.4.4', '5.4.5', '5.5.2', '5.5.3', '5.5.4', '5.6.2'],
  'date-fns': ['3.0.6', '3.1.0', '3.2.0', '3.3.0', '3.3.1', '3.4.0', '3.5.0', '3.6.0'],
};

/** Directory holding the extracted release (its `package/` contents), fetched when missing. */
export function fetchRelease(cache: string, pkg: string, version: string): string {
  const dir = join(cache, 'npm', `${pkg}-${version}`);
  if (existsSync(join(dir, 'package.json'))) return dir;
  const work = join(cache, 'npm', `.fetch-${pkg}-${version}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const out = execFileSync('npm', ['pack', `${pkg}@${version}`, '--json', '--silent'], {
    cwd: work,
    encoding: 'utf8',
  });
  const [info] = JSON.parse(out) as { filename: string }[];
  if (info === undefined) throw new Error(`npm pack ${pkg}@${version} printed no file`);
  execFileSync('tar', ['-xzf', info.filename], { cwd: work });
  rmSync(dir, { recursive: true, force: true });
  renameSync(join(work, 'package'), dir);
  rmSync(work, { recursive: true, force: true });
  return dir;
}

function entries(root: string): Map<string, 'dir' | 'file'> {
  const out = new Map<string, 'dir' | 'file'>();
  const walk = (rel: string): void => {
    for (const e of readdirSync(rel === '' ? root : join(root, rel), { withFileTypes: true })) {
      const p = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) {
        out.set(p, 'dir');
        walk(p);
      } else if (e.isFile()) {
        out.set(p, 'file');
      }
    }
  };
  walk('');
  return out;
}

/**
 * Makes `ws` identical to `release`, touching only what differs (as an
 * in-place upgrade would): files whose bytes changed are rewritten, new
 * ones added, vanished ones deleted. Unchanged files keep their inode and
 * mtime, so every tool's change detection is exercised as on a real tree.
 */
export function syncTo(ws: string, release: string): void {
  mkdirSync(ws, { recursive: true });
  const want = entries(release);
  const have = entries(ws);
  // Deepest first, so directories are empty before they go.
  for (const [p, kind] of [...have].reverse()) {
    if (want.get(p) !== kind) rmSync(join(ws, p), { recursive: true, force: true });
  }
  for (const [p, kind] of want) {
    const dst = join(ws, p);
    if (kind === 'dir') {
      mkdirSync(dst, { recursive: true });
    } else if (!have.has(p) || !readFileSync(dst).equals(readFileSync(join(release, p)))) {
      copyFileSync(join(release, p), dst);
    }
  }
}
