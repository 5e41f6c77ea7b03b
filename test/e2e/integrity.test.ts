import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { E2E_BACKENDS, type E2eBackend, openE2eBackend } from './backends.js';
import {
  cliJson,
  describeTree,
  pseudoRandomBytes,
  removeAll,
  runCli,
  type ServeProcess,
  startServe,
  tempDir,
  waitForArchive,
} from './harness.js';

interface PushJson {
  version: string;
  created: boolean;
  bytesUploaded: number;
}

/** Every file under `dir` (recursively). */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const abs = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(abs)));
    else out.push(abs);
  }
  return out;
}

// A pack deleted behind the server's back (a bucket lifecycle rule, an
// operator's mistake): the pull names it, and pushing the tree again heals
// the version for everyone.
describe.each(E2E_BACKENDS)('a lost pack on %s (real serve process, real CLI)', (kind) => {
  let backend: E2eBackend | undefined;
  let serve: ServeProcess;
  let work: string;

  beforeAll(async () => {
    work = await tempDir();
    backend = await openE2eBackend(kind);
    serve = await startServe({ env: backend.env });
  });

  afterAll(async () => {
    await serve?.stop();
    await backend?.close();
    await removeAll(work, serve?.dataDir ?? '');
  });

  it('is named by the pull, and the next push of the same tree repairs it', async () => {
    const src = join(work, 'tree');
    await mkdir(join(src, 'sub'), { recursive: true });
    await writeFile(join(src, 'big.bin'), pseudoRandomBytes(2 * 1024 * 1024, 5));
    await writeFile(join(src, 'sub/a.txt'), 'hello\n'.repeat(100));
    const opts = { server: serve.url, cacheDir: join(work, 'cache') };
    const first = await cliJson<PushJson>(['push', src, '--storage', 'lost'], opts);
    expect(first.created).toBe(true);

    const root = backend?.objectRoot(serve.dataDir) ?? '';
    const packs = await filesUnder(join(root, 't', 'default', 'packs'));
    expect(packs.length).toBeGreaterThan(0);
    for (const file of packs) await rm(file);

    const failed = await runCli(['pull', 'lost', join(work, 'out1'), '--no-archive', '--json'], {
      server: serve.url,
      cacheDir: join(work, 'c1'),
    });
    expect(failed.code).toBe(5);
    const error = JSON.parse(failed.stdout).error;
    expect(error.code).toBe('pack_missing');
    expect(error.message).toMatch(/[0-9a-f]{64}/);
    expect(error.message).toMatch(/push/);

    // The same push (same stat cache, which still vouches for every chunk) repairs it.
    const repaired = await cliJson<PushJson>(['push', src, '--storage', 'lost'], opts);
    expect(repaired.version).toBe(first.version);
    expect(repaired.bytesUploaded).toBeGreaterThan(2 * 1024 * 1024);
    await cliJson(['pull', 'lost', join(work, 'out2'), '--no-archive'], {
      server: serve.url,
      cacheDir: join(work, 'c2'),
    });
    expect(await describeTree(join(work, 'out2'))).toEqual(await describeTree(src));
    await waitForArchive('lost', serve.url);
    await cliJson(['pull', 'lost', join(work, 'out3')], {
      server: serve.url,
      cacheDir: join(work, 'c3'),
    });
    expect(await describeTree(join(work, 'out3'))).toEqual(await describeTree(src));
  });
});
