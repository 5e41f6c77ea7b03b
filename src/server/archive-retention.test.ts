import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TroveClient } from '../client/api-client.js';
import { pull } from '../client/pull/pull.js';
import { push } from '../client/push.js';
import { bytes, snapshot } from '../testing/pull-fixtures.js';
import { startTestServer, type TestServer } from '../testing/server.js';

let base: string;
let server: TestServer;
let client: TroveClient;

beforeAll(async () => {
  server = await startTestServer({
    prefix: 'trove-retention-',
    env: {
      TROVE_ARCHIVE_FORMATS: 'tar.zst',
      TROVE_ARCHIVE_KEEP: '1',
      TROVE_ARCHIVE_GRACE_SECONDS: '0',
      TROVE_LOG_LEVEL: 'warn',
    },
  });
  ({ base, client } = server);
});
afterAll(() => server?.close());

/** Version n of a small workspace: one file changes per version, the rest is shared. */
function writeVersion(dir: string, n: number): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'src'), { recursive: true });
  writeFileSync(join(dir, 'big.bin'), bytes(400_000, 1));
  writeFileSync(join(dir, 'src', 'state.json'), JSON.stringify({ run: n }));
  writeFileSync(join(dir, `run-${n}.log`), bytes(50_000, 10 + n));
}

/** Names of the archive objects in the local blob store. */
function archiveObjects(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && e.name.endsWith('.tar.zst')) out.push(e.name);
  }
  return out.sort();
}

async function until(what: string, check: () => Promise<boolean> | boolean): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('archive retention end to end (keep 1, grace 0)', () => {
  it('keeps only the head archive; every version still pulls byte for byte', async () => {
    const work = join(base, 'ws');
    const versions: { id: string; tree: Record<string, string> }[] = [];
    for (let n = 1; n <= 3; n++) {
      writeVersion(work, n);
      const { version } = await push({ client, storage: 'agent', dir: work });
      versions.push({ id: version, tree: snapshot(work) });
    }
    const head = versions.at(-1)!.id;
    const data = server.dataDir;
    // The worker evicts and (grace 0) deletes after each archive it builds.
    await until('only the head archive to remain', async () => {
      const v = await client.getVersion('agent', 'latest');
      const ready = v.archives.some((a) => a.state === 'ready');
      return ready && archiveObjects(data).join() === `${head}.tar.zst`;
    });
    for (const [i, v] of versions.entries()) {
      const target = join(base, `pulled-${i}`);
      const r = await pull({ client, storage: 'agent', ref: v.id, target });
      expect(r.source).toBe(v.id === head ? 'archive' : 'packs');
      expect(snapshot(target)).toEqual(v.tree);
    }
  });

  it('an archive deleted between the version summary and its GET falls back to packs', async () => {
    const stale = await client.getVersion('agent', 'latest');
    expect(stale.archives.some((a) => a.state === 'ready' && a.download)).toBe(true);
    const work = join(base, 'ws');
    const before = snapshot(join(base, 'pulled-2'));
    writeVersion(work, 4);
    const { version } = await push({ client, storage: 'agent', dir: work });
    const data = server.dataDir;
    await until(
      'the old head archive to be deleted',
      () =>
        archiveObjects(data).every((name) => name.startsWith(version)) &&
        archiveObjects(data).length === 1,
    );
    // A client still holding the summary it read before the eviction.
    const late = new TroveClient({ baseUrl: server.url });
    late.getVersion = async () => stale;
    const target = join(base, 'late');
    const r = await pull({ client: late, storage: 'agent', ref: stale.id, target });
    expect(r.source).toBe('packs');
    expect(snapshot(target)).toEqual(before);
  });
});
