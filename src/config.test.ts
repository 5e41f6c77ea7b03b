import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadOrCreateSecret, loadServerConfig } from './config.js';
import { TroveError } from './errors.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('loadServerConfig', () => {
  it('has defaults', () => {
    const c = loadServerConfig({}, {});
    expect(isAbsolute(c.dataDir)).toBe(true);
    expect(c.dataDir.endsWith('.trove')).toBe(true);
    expect(c).toMatchObject({
      host: '127.0.0.1',
      port: 7070,
      worker: true,
      archiveFormats: ['tar.zst'],
      sessionTtlSeconds: 86400,
      urlTtlSeconds: 3600,
      commitBudgetBytes: 256 * 1024 * 1024,
      commitBudgetEntries: 500_000,
      tenant: 'default',
    });
  });

  it('reads the environment and lets flags win', () => {
    const c = loadServerConfig(
      { port: '0', data: '/tmp/x' },
      { TROVE_PORT: '9000', TROVE_HOST: '0.0.0.0', TROVE_ARCHIVE_FORMATS: 'tar.zst, tar.gz' },
    );
    expect(c.port).toBe(0);
    expect(c.host).toBe('0.0.0.0');
    expect(c.dataDir).toBe('/tmp/x');
    expect(c.archiveFormats).toEqual(['tar.zst', 'tar.gz']);
  });

  it('turns the worker off with --no-worker or TROVE_WORKER=0', () => {
    expect(loadServerConfig({ 'no-worker': true }, {}).worker).toBe(false);
    expect(loadServerConfig({ worker: false }, {}).worker).toBe(false);
    expect(loadServerConfig({}, { TROVE_WORKER: '0' }).worker).toBe(false);
  });

  it('names the flag or variable at fault', () => {
    const bad = (flags: Record<string, string>, env: Record<string, string>) => {
      try {
        loadServerConfig(flags, env);
      } catch (err) {
        expect(err).toBeInstanceOf(TroveError);
        expect((err as TroveError).code).toBe('invalid_config');
        return (err as TroveError).message;
      }
      throw new Error('expected a failure');
    };
    expect(bad({ port: 'abc' }, {})).toContain('--port');
    expect(bad({}, { TROVE_PORT: '70000' })).toContain('TROVE_PORT');
    expect(bad({}, { TROVE_ARCHIVE_FORMATS: 'zip' })).toContain('TROVE_ARCHIVE_FORMATS');
    expect(bad({}, { TROVE_COMMIT_BUDGET_BYTES: '-1' })).toContain('TROVE_COMMIT_BUDGET_BYTES');
  });
});

describe('loadOrCreateSecret', () => {
  it('creates a 0600 secret once and reuses it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'trove-config-'));
    dirs.push(dir);
    const a = loadOrCreateSecret(dir);
    const b = loadOrCreateSecret(dir);
    expect(a.length).toBe(32);
    expect(b.equals(a)).toBe(true);
    expect(statSync(join(dir, 'secret')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, 'secret'), 'utf8').trim()).toBe(a.toString('hex'));
  });
});
