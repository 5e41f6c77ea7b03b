#!/usr/bin/env node
// Runs `npm ci` when node_modules is missing or older than package-lock.json,
// so `npm test` works first thing on a fresh clone and after a pull that
// changed the lockfile; costs one stat per file otherwise. npm rewrites
// node_modules/.package-lock.json on every install, so its mtime is when the
// dependencies were last installed. Plain JavaScript: it runs before any
// dependency (TypeScript included) is there.
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function mtime(path) {
  try {
    return statSync(join(root, path)).mtimeMs;
  } catch {
    return undefined;
  }
}

const lock = mtime('package-lock.json');
const installed = mtime('node_modules/.package-lock.json');
if (installed === undefined || (lock !== undefined && lock > installed)) {
  const why = installed === undefined ? 'not installed' : 'package-lock.json changed';
  process.stderr.write(`ensure-deps: dependencies ${why}; running npm ci\n`);
  const npm = process.env.npm_execpath
    ? [process.execPath, [process.env.npm_execpath]]
    : ['npm', []];
  const result = spawnSync(npm[0], [...npm[1], 'ci', '--no-audit', '--no-fund'], {
    cwd: root,
    stdio: 'inherit',
  });
  process.exit(result.status ?? 1);
}
