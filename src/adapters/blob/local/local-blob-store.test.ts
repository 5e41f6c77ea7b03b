import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { TroveError } from '../../../errors.js';
import { checkedBlobStore } from '../checked.js';
import { runBlobStoreConformance } from '../testing/conformance.js';
import { expectTroveError } from '../testing/harness.js';
import { openLocalBlobHarness } from '../testing/local-harness.js';
import { LocalBlobStore } from './local-blob-store.js';

runBlobStoreConformance('LocalBlobStore', openLocalBlobHarness);

describe('LocalBlobStore on disk', () => {
  const dirs: string[] = [];
  const tempRoot = async (): Promise<string> => {
    const dir = await mkdtemp(join(tmpdir(), 'trove-local-'));
    dirs.push(dir);
    return dir;
  };
  const secret = 'a-secret-of-at-least-16-bytes';
  afterEach(async () => {
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
  });

  it('removes stale temp files at construction and keeps fresh ones', async () => {
    const root = await tempRoot();
    await mkdir(join(root, '.tmp'));
    const stale = join(root, '.tmp', 'stale.part');
    const fresh = join(root, '.tmp', 'fresh.part');
    await writeFile(stale, 'old');
    await writeFile(fresh, 'new');
    const twoHoursAgo = new Date(Date.now() - 2 * 3600 * 1000);
    await utimes(stale, twoHoursAgo, twoHoursAgo);
    new LocalBlobStore({ root, secret });
    expect(await readdir(join(root, '.tmp'))).toEqual(['fresh.part']);
  });

  it('removes every temp file at construction when it owns the directory (locked data dir)', async () => {
    const root = await tempRoot();
    await mkdir(join(root, '.tmp'));
    const stale = join(root, '.tmp', 'stale.part');
    await writeFile(stale, 'old');
    await writeFile(join(root, '.tmp', 'fresh.part'), 'new');
    const twoHoursAgo = new Date(Date.now() - 2 * 3600 * 1000);
    await utimes(stale, twoHoursAgo, twoHoursAgo);
    new LocalBlobStore({ root, secret, exclusive: true });
    expect(await readdir(join(root, '.tmp'))).toEqual([]);
  });

  it('sweeps dead temp files while running, never a put still streaming', async () => {
    const root = await tempRoot();
    const store = new LocalBlobStore({ root, secret, staleTempMs: 60_000 });
    const old = new Date(Date.now() - 120_000);
    // A put whose sender stalls: its temp file exists and has not been written for a while.
    const body = new PassThrough();
    const putting = store.put('k/streaming', body);
    body.write(Buffer.alloc(10));
    let [inFlight] = await readdir(join(root, '.tmp'));
    for (let i = 0; i < 100 && inFlight === undefined; i++) {
      await new Promise((r) => setTimeout(r, 10));
      [inFlight] = await readdir(join(root, '.tmp'));
    }
    expect(inFlight).toMatch(/\.part$/);
    await utimes(join(root, '.tmp', inFlight ?? ''), old, old);
    // Left by a killed upload: old, and fresh (another process may still write it).
    await writeFile(join(root, '.tmp', 'dead.part'), 'x');
    await utimes(join(root, '.tmp', 'dead.part'), old, old);
    await writeFile(join(root, '.tmp', 'young.part'), 'x');
    expect(store.sweepTempFiles()).toBe(1);
    expect((await readdir(join(root, '.tmp'))).sort()).toEqual([inFlight, 'young.part'].sort());
    body.end(Buffer.from('rest'));
    expect((await putting).size).toBe(14);
    expect(await readdir(join(root, '.tmp'))).toEqual(['young.part']);
  });

  it('leaves no temp file behind after failed or successful puts', async () => {
    const root = await tempRoot();
    const store = checkedBlobStore(new LocalBlobStore({ root, secret }));
    const body = () => Readable.from([Buffer.from('hello')]);
    await expectTroveError(store.put('k/a', body(), { size: 4 }), 'size_mismatch');
    await expectTroveError(store.put('k/b', body(), { size: 6 }), 'size_mismatch');
    await expectTroveError(store.put('k/c', body(), { sha256: '0'.repeat(64) }), 'digest_mismatch');
    const failing = new Readable({
      read() {
        this.destroy(new Error('client went away'));
      },
    });
    await expectTroveError(store.put('k/d', failing), 'unavailable');
    await store.put('k/e', body());
    expect(await readdir(join(root, '.tmp'))).toEqual([]);
    expect(await readdir(join(root, 'k'))).toEqual(['e']);
  });

  it('stores nested keys as nested files', async () => {
    const root = await tempRoot();
    const store = checkedBlobStore(new LocalBlobStore({ root, secret }));
    await store.put('t/packs/ab/cd/ef', Readable.from([Buffer.from('x')]));
    expect(await readdir(join(root, 't', 'packs', 'ab', 'cd'))).toEqual(['ef']);
    // A directory is not an object, and deleting it as a key is a no-op.
    expect(await store.stat('t/packs')).toBeNull();
    await expectTroveError(store.get('t/packs'), 'blob_not_found');
    await store.delete(['t/packs']);
    expect(await store.stat('t/packs/ab/cd/ef')).toEqual({ size: 1 });
  });

  it('refuses keys inside its temp directory', async () => {
    const store = checkedBlobStore(new LocalBlobStore({ root: await tempRoot(), secret }));
    await expectTroveError(store.put('.tmp/x', Readable.from([])), 'invalid_request');
    await expectTroveError(store.stat('.tmp/x'), 'invalid_request');
  });

  it('wraps filesystem failures as unavailable, keeping the cause', async () => {
    const root = await tempRoot();
    const store = checkedBlobStore(new LocalBlobStore({ root: join(root, 'data'), secret }));
    await rm(join(root, 'data'), { recursive: true });
    await writeFile(join(root, 'data'), 'not a directory');
    const err = await expectTroveError(store.put('k', Readable.from([])), 'unavailable');
    expect(err.cause).toBeInstanceOf(Error);
    await expectTroveError(store.ping(), 'unavailable');
  });

  it('rejects a short secret or a bad path prefix as invalid_config', async () => {
    const root = await tempRoot();
    for (const options of [
      { secret: 'short' },
      { secret, pathPrefix: 'no-slash' },
      { secret, pathPrefix: '/trailing/' },
    ]) {
      expect(() => new LocalBlobStore({ root, ...options })).toThrow(TroveError);
    }
  });
});
