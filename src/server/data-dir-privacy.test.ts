import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadServerConfig } from '../config.js';
import { buildTree, call, overHttp, push } from '../testing/http-harness.js';
import { startServer } from './serve.js';

const base = mkdtempSync(join(tmpdir(), 'trove-private-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

/** Every path under `root` (root included) whose mode grants group or others anything. */
function exposed(root: string): string[] {
  const out: string[] = [];
  const walk = (path: string) => {
    const st = statSync(path);
    if ((st.mode & 0o077) !== 0) out.push(`${path} ${(st.mode & 0o777).toString(8)}`);
    if (st.isDirectory()) for (const name of readdirSync(path)) walk(join(path, name));
  };
  walk(root);
  return out;
}

describe('the embedded data directory is private', () => {
  it('creates every file 0600 and every directory 0700 even with umask 0', async () => {
    const data = join(base, 'data');
    const previous = process.umask(0);
    try {
      const config = loadServerConfig({ data, port: '0' }, {});
      const server = await startServer(config);
      try {
        const http = overHttp(server.url);
        const { commit } = await push(http, 'private', buildTree({ 'a.txt': 'secret\n' }));
        expect(commit?.status).toBe(200);
        let detail = await call(http, 'GET', '/v1/storages/private/versions/latest');
        for (let i = 0; i < 300 && detail.json.archives[0].state !== 'ready'; i++) {
          await new Promise((r) => setTimeout(r, 100));
          detail = await call(http, 'GET', '/v1/storages/private/versions/latest');
        }
        expect(detail.json.archives[0].state).toBe('ready');
        // Blobs, an archive and the database's WAL exist; check while the server still runs.
        expect(readdirSync(join(data, 'db', 'pg_wal')).length).toBeGreaterThan(0);
        expect(exposed(data)).toEqual([]);
      } finally {
        await server.close();
      }
      expect(exposed(data)).toEqual([]);
    } finally {
      process.umask(previous);
    }
  });

  it("tightens trove's own entries in an existing data directory and drops crash leftovers", async () => {
    const data = join(base, 'loose');
    mkdirSync(join(data, 'blobs', '.tmp'), { recursive: true, mode: 0o777 });
    writeFileSync(join(data, 'secret'), `${'ab'.repeat(32)}\n`, { mode: 0o644 });
    mkdirSync(join(data, 'db'), { mode: 0o755 });
    // A killed upload's temp file, written a moment ago: the locked data dir has no other writer.
    writeFileSync(join(data, 'blobs', '.tmp', 'killed.part'), 'partial');
    const rootMode = statSync(data).mode & 0o777;
    const server = await startServer(loadServerConfig({ data, port: '0', 'no-worker': true }, {}));
    await server.close();
    expect(readdirSync(join(data, 'blobs', '.tmp'))).toEqual([]);
    const rest = exposed(data).filter((line) => !line.startsWith(`${data} `));
    expect(rest).toEqual([]);
    // The directory itself was the operator's choice: warned about, not changed.
    expect(statSync(data).mode & 0o777).toBe(rootMode);
  });
});
