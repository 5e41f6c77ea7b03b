#!/usr/bin/env node
// `npm test [-- vitest args]`: installs if needed (ensure-deps.mjs), builds
// (the end-to-end tests run bin/trove.js from dist/), then vitest. With no
// arguments it is the whole matrix: every suite, then the service tests again
// on PostgreSQL + S3 (`npm run test:postgres-s3`). With arguments
// (`npm test -- src/core`) it runs just those through vitest, once.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const npm = process.env.npm_execpath ? [process.execPath, process.env.npm_execpath] : ['npm'];

function step(command, ...rest) {
  const result = spawnSync(command[0], [...command.slice(1), ...rest], {
    cwd: root,
    stdio: 'inherit',
  });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

step([process.execPath, join(root, 'scripts/ensure-deps.mjs')]);
step(npm, 'run', 'build');
step([process.execPath, join(root, 'node_modules/vitest/vitest.mjs')], 'run', ...args);
if (args.length === 0) step(npm, 'run', 'test:postgres-s3');
