import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../testing/server.js';
import type { CliIo } from './io.js';
import { main } from './main.js';

let tmp: string;
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ prefix: 'trove-cli-' });
  tmp = server.base;
});
afterAll(() => server?.close());

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
    env: { TROVE_URL: server.url, TROVE_CACHE_DIR: join(tmp, 'cache') },
  };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

async function json<T>(argv: string[]): Promise<T> {
  const r = await run([...argv, '--json']);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  expect(r.stdout.trim().split('\n')).toHaveLength(1);
  return JSON.parse(r.stdout) as T;
}

describe('trove CLI against a real server', () => {
  it('push, log, ls, diff and pull', async () => {
    const src = join(tmp, 'src');
    await mkdir(join(src, 'd'), { recursive: true });
    await writeFile(join(src, 'a.txt'), 'a');
    await writeFile(join(src, 'b.txt'), 'b');
    const v1 = await json<{ version: string; created: boolean; bytesUploaded: number }>([
      'push',
      src,
      '--storage',
      'cli',
      '-m',
      'one',
    ]);
    expect(v1.created).toBe(true);
    expect(v1.bytesUploaded).toBeGreaterThan(0);

    await rm(join(src, 'a.txt'));
    await writeFile(join(src, 'b.txt'), 'bb');
    await writeFile(join(src, 'd', 'c.txt'), 'c');
    const text = await run(['push', src, '--storage', 'cli', '-m', 'two']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(
      /^pushed cli@[0-9a-f]{8} \(new\): 2 files, 3 B, uploaded .* in 1 pack, /,
    );
    const head = await json<{ storages: { name: string; head: string }[] }>(['ls']);
    const v2 = head.storages.find((s) => s.name === 'cli')!.head;

    const log = await json<{ storage: string; versions: { id: string; message: string }[] }>([
      'log',
      'cli',
    ]);
    expect(log.storage).toBe('cli');
    expect(log.versions.map((v) => v.message)).toEqual(['two', 'one']);
    expect((await run(['log', 'cli', '--limit', '1'])).stdout.trim().split('\n')).toHaveLength(1);

    const diff = await json<{
      from: string;
      to: string;
      added: string[];
      removed: string[];
      changed: string[];
    }>(['diff', `cli@${v1.version.slice(0, 8)}`, 'cli@latest']);
    expect(diff).toEqual({
      from: v1.version,
      to: v2,
      added: ['d/c.txt'],
      removed: ['a.txt'],
      changed: ['b.txt'],
    });

    const out = join(tmp, 'out');
    const pulled = await json<{
      version: string;
      files: number;
      bytesDownloaded: number;
      source: string;
    }>(['pull', `cli@${v1.version}`, out, '--no-archive']);
    expect(pulled.version).toBe(v1.version);
    expect(pulled.files).toBe(2);
    expect(await readFile(join(out, 'a.txt'), 'utf8')).toBe('a');
  });

  it('maps server errors to exit codes', async () => {
    const missing = await run(['log', 'no-such-storage', '--json']);
    expect(missing.code).toBe(3);
    expect(JSON.parse(missing.stdout).error.code).toBe('storage_not_found');
    const text = await run(['pull', 'no-such-storage', join(tmp, 'x')]);
    expect(text.code).toBe(3);
    expect(text.stderr).toMatch(/^trove: /);
    expect(text.stderr).toContain('hint:');

    const src = join(tmp, 'conflict');
    await mkdir(src, { recursive: true });
    await writeFile(join(src, 'f'), '1');
    const first = await json<{ version: string }>(['push', src, '--storage', 'conflict']);
    await writeFile(join(src, 'f'), '2');
    await json(['push', src, '--storage', 'conflict']);
    await writeFile(join(src, 'f'), '3');
    const conflict = await run(['push', src, '--storage', 'conflict', '--parent', first.version]);
    expect(conflict.code).toBe(4);
    expect(conflict.stderr).toContain('--force');
    const forced = await run([
      'push',
      src,
      '--storage',
      'conflict',
      '--parent',
      first.version.slice(0, 6),
      '--force',
    ]);
    expect(forced.code).toBe(0);
  });
});
