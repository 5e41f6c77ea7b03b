import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TroveClient } from '../client/api-client.js';
import { pull } from '../client/pull/pull.js';
import { push } from '../client/push.js';
import { createLogger } from '../observability/logger.js';
import { acquireTestDatabase } from '../testing/postgres-server.js';
import { startS3rver, troveS3Env } from '../testing/s3rver.js';
import { createFetchHandler, type OpenFetchHandler, openFetchHandler } from './fetch-handler.js';

const quiet = createLogger({ level: 'error' });

describe('fetch handler (serverless API)', () => {
  it('refuses to start without S3, answering 503 with the reason', async () => {
    const env = { TROVE_DATABASE_URL: 'postgres://127.0.0.1:1/none' };
    await expect(openFetchHandler({ env, logger: quiet })).rejects.toMatchObject({
      code: 'invalid_config',
    });
    const handler = createFetchHandler({ env, logger: quiet });
    const res = await handler(new Request('http://trove.test/healthz'));
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ error: { code: 'invalid_config' } });
  });

  it('answers 503 while the database is unreachable, naming the problem', async () => {
    const handler = createFetchHandler({
      env: {
        TROVE_DATABASE_URL: 'postgres://trove@127.0.0.1:1/trove',
        TROVE_S3_BUCKET: 'no-such-bucket',
        TROVE_S3_ENDPOINT: 'http://127.0.0.1:1',
      },
      logger: quiet,
    });
    const res = await handler(new Request('http://trove.test/v1/storages'));
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ error: { code: 'unavailable' } });
  });

  describe('on PostgreSQL + S3', () => {
    let opened: OpenFetchHandler;
    let cleanup: () => Promise<void>;
    let base: string;
    let work: string;
    let closeServer: () => Promise<void>;

    beforeAll(async () => {
      const db = await acquireTestDatabase();
      const s3 = await startS3rver();
      cleanup = async () => {
        await s3.stop();
        await db.drop();
      };
      opened = await openFetchHandler({
        env: {
          TROVE_DATABASE_URL: db.url,
          ...troveS3Env(s3),
        },
        logger: quiet,
      });
      // Any runtime that speaks fetch can host it; here a plain Node HTTP server.
      const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
        const s = serve({ fetch: opened.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
      });
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      closeServer = () => new Promise<void>((r) => server.close(() => r()));
      work = await mkdtemp(join(tmpdir(), 'trove-fetch-'));
    });

    afterAll(async () => {
      await closeServer?.();
      await opened?.close();
      await cleanup?.();
      if (work) await rm(work, { recursive: true, force: true });
    });

    it('answers health and readiness as a plain Request → Response function', async () => {
      expect((await opened.fetch(new Request('http://x/healthz'))).status).toBe(200);
      const ready = await opened.fetch(new Request('http://x/readyz'));
      expect(ready.status).toBe(200);
    });

    it('pushes and pulls a tree through it, packs going straight to the bucket', async () => {
      const src = join(work, 'src');
      await mkdir(join(src, 'sub'), { recursive: true });
      const big = Buffer.alloc(3 * 1024 * 1024);
      for (let i = 0; i < big.length; i += 4) big.writeUInt32LE((i * 2654435761) >>> 0, i);
      await writeFile(join(src, 'big.bin'), big);
      await writeFile(join(src, 'sub', 'a.txt'), 'hello\n');
      const client = new TroveClient({ baseUrl: base });
      const pushed = await push({ client, storage: 'fn', dir: src });
      expect(pushed.created).toBe(true);
      const out = join(work, 'out');
      const pulled = await pull({ client, storage: 'fn', target: out, archive: false });
      expect(pulled.version).toBe(pushed.version);
      const sha = async (p: string) =>
        createHash('sha256')
          .update(await readFile(p))
          .digest('hex');
      expect(await sha(join(out, 'big.bin'))).toBe(await sha(join(src, 'big.bin')));
      expect(await readFile(join(out, 'sub', 'a.txt'), 'utf8')).toBe('hello\n');
    });
  });
});
