import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadServerConfig } from '../config.js';
import { sha256Hex } from '../core/digest.js';
import { buildTree, call, overHttp, push, sendPresigned } from '../testing/http-harness.js';
import { startServer } from './serve.js';

const dir = mkdtempSync(join(tmpdir(), 'trove-serve-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('startServer', () => {
  it('serves the API over HTTP, materializes archives, locks the data dir and closes', async () => {
    const config = loadServerConfig({ data: dir, port: '0' }, {});
    const server = await startServer(config);
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const http = overHttp(server.url);
      expect((await call(http, 'GET', '/healthz')).json).toEqual({ ok: true });

      await expect(startServer(config)).rejects.toMatchObject({ code: 'data_dir_locked' });

      const tree = buildTree({ 'a/b.txt': 'served over real HTTP\n'.repeat(100) });
      const { commit } = await push(http, 'served', tree);
      expect(commit?.status).toBe(200);

      let detail = await call(http, 'GET', '/v1/storages/served/versions/latest');
      for (let i = 0; i < 300 && detail.json.archives[0].state !== 'ready'; i++) {
        await new Promise((r) => setTimeout(r, 100));
        detail = await call(http, 'GET', '/v1/storages/served/versions/latest');
      }
      const [archive] = detail.json.archives;
      expect(archive.state).toBe('ready');
      const res = await sendPresigned(http, archive.download);
      const bytes = Buffer.from(await res.arrayBuffer());
      expect(sha256Hex(bytes)).toBe(archive.sha256);
    } finally {
      await server.close();
    }
    // The lock is released and the data survives a restart.
    const again = await startServer(
      loadServerConfig({ data: dir, port: '0', 'no-worker': true }, {}),
    );
    try {
      const storage = await call(overHttp(again.url), 'GET', '/v1/storages/served');
      expect(storage.status).toBe(200);
    } finally {
      await again.close();
    }
  });
});
