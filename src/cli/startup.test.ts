import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

/**
 * What the built CLI (bin/trove.js → dist/) loads at start-up: client
 * commands must not pay for the server, and `--version` not even for the
 * commands. A preload hook fails the process on any forbidden import.
 */

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const FORBID = resolve(ROOT, 'test/package/forbid-server-deps.mjs');

async function trove(
  args: string[],
  forbid?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, TROVE_CACHE_DIR: '/nonexistent-trove-cache' };
  if (forbid) env.TROVE_FORBID_MODULES = forbid;
  else delete env.TROVE_FORBID_MODULES;
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      ['--import', FORBID, resolve(ROOT, 'bin/trove.js'), ...args],
      { env, timeout: 30_000 },
    );
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('CLI start-up', () => {
  it('runs the client commands without loading a server dependency', async () => {
    // Port 9: nothing listens, so each command fails fast with exit 6 (unreachable)
    // once its imports are done; a forbidden import would exit 1 first.
    const server = ['--server', 'http://127.0.0.1:9'];
    for (const args of [
      ['ls'],
      ['log', 'x'],
      ['diff', 'x@abcd', 'x@abce'],
      ['pull', 'x', '/nonexistent-trove-target'],
    ]) {
      const r = await trove([...args, ...server]);
      expect(r.stderr).not.toContain('forbidden module');
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(6);
    }
  });

  it('answers --version and an unknown command without loading the commands or zod', async () => {
    const commandModules = '/dist/src/(cli/commands|client|api)/|/node_modules/zod/';
    const version = await trove(['--version'], commandModules);
    expect(version.stderr).toBe('');
    expect(version.stdout).toMatch(/^trove \d+\.\d+\.\d+/);
    const unknown = await trove(['frobnicate'], commandModules);
    expect(unknown.code).toBe(2);
  });

  it('fails when a forbidden module is imported (the check works)', async () => {
    const r = await trove(['--version'], '/dist/src/cli/');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('forbidden module');
  });
});
