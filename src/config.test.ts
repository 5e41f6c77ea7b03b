import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_SERVICE_CONFIG,
  loadOrCreateSecret,
  loadServerConfig,
  redactUrl,
  serviceConfig,
} from './config.js';
import { SETTINGS } from './config-settings.js';
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

  it('hands the services their settings and nothing else (defaults as in DEFAULT_SERVICE_CONFIG)', () => {
    const c = loadServerConfig(
      {},
      { TROVE_URL_TTL_SECONDS: '600', TROVE_DATABASE_URL: 'postgres://u:pw@h/db' },
    );
    expect(serviceConfig(c)).toEqual({ ...DEFAULT_SERVICE_CONFIG, urlTtlSeconds: 600 });
  });

  it('archive retention: keeps the head by default, grace follows the URL lifetime', () => {
    expect(loadServerConfig({}, {})).toMatchObject({ archiveKeep: 1, archiveGraceSeconds: 3600 });
    const ttl = loadServerConfig({}, { TROVE_URL_TTL_SECONDS: '600', TROVE_ARCHIVE_KEEP: '0' });
    expect(ttl).toMatchObject({ archiveKeep: 0, archiveGraceSeconds: 600 });
    const grace = loadServerConfig({}, { TROVE_ARCHIVE_GRACE_SECONDS: '0' });
    expect(grace.archiveGraceSeconds).toBe(0);
    for (const env of [{ TROVE_ARCHIVE_KEEP: '-1' }, { TROVE_ARCHIVE_GRACE_SECONDS: 'soon' }]) {
      expect(() => loadServerConfig({}, env)).toThrow(TroveError);
    }
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

describe('loadServerConfig: production backends', () => {
  const codeOf = (fn: () => unknown): string => {
    try {
      fn();
      return 'ok';
    } catch (err) {
      return err instanceof TroveError ? `${err.code}: ${err.message}` : String(err);
    }
  };

  it('defaults to the embedded backends', () => {
    const c = loadServerConfig({}, {});
    expect(c.databaseUrl).toBeUndefined();
    expect(c.s3).toBeUndefined();
    expect(c).toMatchObject({ databasePoolSize: 10, workerConcurrency: 1, logFormat: 'auto' });
  });

  it('reads PostgreSQL and S3 settings', () => {
    const c = loadServerConfig(
      { 'database-url': 'postgres://u:pw@db:5432/trove' },
      {
        TROVE_S3_BUCKET: 'trove-prod',
        TROVE_S3_ENDPOINT: 'http://127.0.0.1:9000',
        TROVE_S3_FORCE_PATH_STYLE: 'true',
        TROVE_S3_ACCESS_KEY_ID: 'AK',
        TROVE_S3_SECRET_ACCESS_KEY: 'SK',
        TROVE_S3_PREFIX: 'envs/prod',
        TROVE_DATABASE_POOL_SIZE: '25',
      },
    );
    expect(c.databaseUrl).toBe('postgres://u:pw@db:5432/trove');
    expect(c.databasePoolSize).toBe(25);
    expect(c.s3).toEqual({
      bucket: 'trove-prod',
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:9000',
      forcePathStyle: true,
      prefix: 'envs/prod',
      credentials: { accessKeyId: 'AK', secretAccessKey: 'SK' },
      partSizeBytes: 16 * 1024 * 1024,
    });
  });

  it('uses the AWS default credential chain when no keys are given', () => {
    expect(loadServerConfig({}, { TROVE_S3_BUCKET: 'b-1' }).s3?.credentials).toBeUndefined();
  });

  it('rejects malformed or incomplete backend settings without echoing secrets', () => {
    const dbBad = codeOf(() =>
      loadServerConfig({}, { TROVE_DATABASE_URL: 'mysql://u:hunter2@x/db' }),
    );
    expect(dbBad).toMatch(/^invalid_config: invalid TROVE_DATABASE_URL/);
    expect(dbBad).not.toContain('hunter2');
    expect(codeOf(() => loadServerConfig({}, { TROVE_S3_BUCKET: 'Bad_Bucket' }))).toMatch(
      /TROVE_S3_BUCKET/,
    );
    expect(
      codeOf(() => loadServerConfig({}, { TROVE_S3_BUCKET: 'b-1', TROVE_S3_ACCESS_KEY_ID: 'AK' })),
    ).toMatch(/set together/);
    expect(
      codeOf(() => loadServerConfig({}, { TROVE_S3_ENDPOINT: 'http://127.0.0.1:9000' })),
    ).toMatch(/TROVE_S3_BUCKET is not/);
    expect(
      codeOf(() =>
        loadServerConfig({}, { TROVE_S3_BUCKET: 'b-1', TROVE_S3_ENDPOINT: 'minio:9000' }),
      ),
    ).toMatch(/TROVE_S3_ENDPOINT/);
    expect(codeOf(() => loadServerConfig({}, { TROVE_LOG_LEVEL: 'loud' }))).toMatch(
      /TROVE_LOG_LEVEL/,
    );
  });

  it('redacts passwords from URLs it prints', () => {
    expect(redactUrl('postgres://u:hunter2@db/trove')).toBe('postgres://u:***@db/trove');
    expect(redactUrl('postgres://db/trove')).toBe('postgres://db/trove');
  });

  it('documents every setting in docs/configuration.md', () => {
    const doc = readFileSync(join(import.meta.dirname, '../docs/configuration.md'), 'utf8');
    for (const setting of Object.values(SETTINGS) as { env?: string; flag?: string }[]) {
      if (setting.env) expect(doc, setting.env).toContain(`\`${setting.env}\``);
      // A boolean flag is documented by its negation (--no-worker).
      if (setting.flag) expect(doc, setting.flag).toMatch(new RegExp(`--(no-)?${setting.flag}\\b`));
    }
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
