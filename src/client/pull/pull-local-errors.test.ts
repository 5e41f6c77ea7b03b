import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_PATH_BYTES, MAX_SEGMENT_BYTES } from '../../core/paths.js';
import { buildTree, overHttp, push as pushRaw } from '../../testing/http-harness.js';
import { startTestServer, type TestServer } from '../../testing/server.js';
import type { TroveClient } from '../api-client.js';
import { fetchChunks } from './fetch-chunks.js';
import { pull } from './pull.js';

let base: string;
let server: TestServer;
let client: TroveClient;

beforeAll(async () => {
  server = await startTestServer({ prefix: 'trove-pull-long-' });
  ({ base, client } = server);
});
afterAll(() => server?.close());

/**
 * A path the manifest allows (segments of at most 255 bytes, at most 4096 in
 * all) but this filesystem cannot create below the pull's temporary directory:
 * with the directory's own path in front it passes PATH_MAX.
 */
function longPath(): string {
  const segs: string[] = [];
  while ((segs.length + 1) * (MAX_SEGMENT_BYTES + 1) <= MAX_PATH_BYTES)
    segs.push(String(segs.length).padEnd(MAX_SEGMENT_BYTES, 'x'));
  return segs.join('/');
}

async function waitArchive(storage: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const v = await client.getVersion(storage, 'latest');
    if (v.archives.some((a) => a.state === 'ready')) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('archive never became ready');
}

describe('a path longer than the local filesystem allows', () => {
  it('is reported as path_too_long naming the path, from packs and from the archive', async () => {
    const deep = longPath();
    // Pushed through the HTTP API: no local tree can hold this path either.
    const tree = buildTree({ [`${deep}`]: 'too deep to restore here\n', 'ok.txt': 'ok\n' });
    const pushed = await pushRaw(overHttp(server.url), 'long', tree);
    expect(pushed.commit?.status).toBe(200);
    for (const archive of [false, true]) {
      if (archive) await waitArchive('long');
      const target = join(base, archive ? 'from-archive' : 'from-packs');
      const err = await pull({ client, storage: 'long', target, archive }).catch((e) => e);
      expect(err, `archive: ${archive}`).toMatchObject({ code: 'path_too_long' });
      expect(deep.startsWith(err.details.path)).toBe(true);
      expect(err.message).toContain(err.details.path.slice(0, 40));
      expect(err.message).toMatch(/too long for this filesystem/);
      expect(existsSync(target)).toBe(false);
    }
    expect(readdirSync(base).filter((n) => n.includes('.trove-'))).toEqual([]);
  });

  it('a local write error while placing fetched chunks fails the pull; the chunk is never skipped', async () => {
    const tree = buildTree({ 'a.bin': 'a'.repeat(1000), 'b.bin': 'b'.repeat(1000) });
    expect((await pushRaw(overHttp(server.url), 'write-fail', tree)).commit?.status).toBe(200);
    const placed: string[] = [];
    let failed = false;
    const run = fetchChunks({
      client,
      storage: 'write-fail',
      version: tree.id,
      digests: [...tree.chunks.keys()],
      concurrency: 1,
      onChunk: (digest) => {
        if (!failed) {
          failed = true;
          throw Object.assign(new Error('ENOSPC: no space left on device, write'), {
            code: 'ENOSPC',
          });
        }
        placed.push(digest);
      },
    });
    // Before: the range was retried as if the network broke, and the chunk whose write
    // failed was skipped as already delivered: the pull "succeeded" without that file.
    await expect(run).rejects.toMatchObject({ code: 'ENOSPC' });
  });
});
