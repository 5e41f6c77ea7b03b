import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { z } from 'zod';
import { SERVICE_DEFAULTS, SETTINGS, type Setting, type SettingName } from './config-settings.js';
import { TroveError } from './errors.js';
import type { ServiceConfig } from './services/config.js';

/** Where archives, packs and manifests live when they go to S3 (or a compatible store). */
export interface S3Config {
  /** Bucket name. */
  bucket: string;
  /** Region used for signing. */
  region: string;
  /** Custom endpoint (MinIO, R2, ...); undefined means AWS. */
  endpoint: string | undefined;
  /** Path-style addressing (`endpoint/bucket/key`), which most S3-compatible stores need. */
  forcePathStyle: boolean;
  /** Key prefix inside the bucket, without trailing slash. */
  prefix: string | undefined;
  /** Static credentials; undefined uses the AWS SDK's default chain (env, profile, IAM role). */
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | undefined;
  /** Multipart part size for archive uploads. */
  partSizeBytes: number;
}

/**
 * The server configuration, read and validated once from flags and the
 * environment (the table is src/config-settings.ts). Nothing else in the
 * codebase reads process.env for server settings. The service settings are
 * the services' own type (`ServiceConfig`); `serviceConfig` cuts them out.
 */
export interface ServerConfig extends ServiceConfig {
  /** Absolute path of the data directory (PGlite database, local blobs, secret). */
  dataDir: string;
  /** Interface the HTTP server binds. */
  host: string;
  /** TCP port; 0 picks a free one. */
  port: number;
  /** Whether this process also runs the materialize worker. */
  worker: boolean;
  /** Archives a worker process builds at once. */
  workerConcurrency: number;
  /**
   * Archive retention: archives are kept for the newest this many history
   * entries of each storage, older ones are evicted; 0 keeps every archive.
   */
  archiveKeep: number;
  /** How long an evicted archive's object stays for downloads already handed out. */
  archiveGraceSeconds: number;
  /** A local blob temp file not written for this long is a dead put's and is swept. */
  tempMaxAgeSeconds: number;
  /** The tenant every request acts for until authentication exists. */
  tenant: string;
  /** PostgreSQL connection URL; undefined runs the embedded PGlite in the data directory. */
  databaseUrl: string | undefined;
  /** Connections in this process's PostgreSQL pool. */
  databasePoolSize: number;
  /** S3 settings; undefined keeps blobs on local disk in the data directory. */
  s3: S3Config | undefined;
  /** How long shutdown waits for in-flight requests and jobs. */
  shutdownGraceSeconds: number;
  /** Least severe log level written. */
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** Log line format; 'auto' is pretty on a terminal and JSON otherwise. */
  logFormat: 'json' | 'pretty' | 'auto';
}

/** The services' settings of a server configuration, and nothing else. */
export function serviceConfig(config: ServerConfig): ServiceConfig {
  return {
    archiveFormats: config.archiveFormats,
    sessionTtlSeconds: config.sessionTtlSeconds,
    urlTtlSeconds: config.urlTtlSeconds,
    commitBudgetBytes: config.commitBudgetBytes,
    commitBudgetEntries: config.commitBudgetEntries,
    commitBudgetChunkRefs: config.commitBudgetChunkRefs,
    deltaMaxManifestBytes: config.deltaMaxManifestBytes,
    maxExpensiveRequests: config.maxExpensiveRequests,
  };
}

/** The service settings at their defaults (the settings table's), for tests and embedders. */
export const DEFAULT_SERVICE_CONFIG: ServiceConfig = {
  archiveFormats: ['tar.zst'],
  ...SERVICE_DEFAULTS,
};

type Flags = Record<string, string | boolean | undefined>;
type Env = Record<string, string | undefined>;

function invalid(message: string, details: Record<string, unknown>): TroveError {
  return new TroveError('invalid_config', message, details);
}

/** Reads one setting: flag, then environment, then default; validated. */
function readSetting(name: string, setting: Setting, flags: Flags, env: Env): unknown {
  let raw: unknown = setting.fallback;
  let source = 'default';
  if (setting.flag !== undefined && flags[setting.flag] !== undefined) {
    raw = flags[setting.flag];
    source = `--${setting.flag}`;
  } else if (
    setting.env !== undefined &&
    env[setting.env] !== undefined &&
    env[setting.env] !== ''
  ) {
    raw = env[setting.env];
    source = setting.env;
  }
  if (name === 'worker' && flags['no-worker'] === true) {
    raw = false;
    source = '--no-worker';
  }
  const parsed = setting.schema.safeParse(raw);
  if (!parsed.success) {
    const why = parsed.error.issues.map((i) => i.message).join('; ');
    const shown = setting.secret ? '(hidden)' : String(raw);
    throw invalid(`invalid ${source}=${shown}: ${why}`, { setting: name, source });
  }
  return parsed.data;
}

/**
 * Builds the configuration from CLI flags (without leading dashes; `--no-worker`
 * arrives as `worker: false` or `'no-worker': true`) and the environment.
 * Flags win over the environment. Throws TroveError('invalid_config') naming
 * the flag or variable at fault; secrets are never echoed.
 */
export function loadServerConfig(flags: Flags, env: Env = process.env): ServerConfig {
  const raw: Record<string, unknown> = {};
  for (const [name, setting] of Object.entries(SETTINGS) as [string, Setting][]) {
    raw[name] = readSetting(name, setting, flags, env);
  }
  const r = raw as { [K in SettingName]: z.output<(typeof SETTINGS)[K]['schema']> };
  const keyId = r.s3AccessKeyId;
  const secretKey = r.s3SecretAccessKey;
  if ((keyId === undefined) !== (secretKey === undefined)) {
    throw invalid(
      'TROVE_S3_ACCESS_KEY_ID and TROVE_S3_SECRET_ACCESS_KEY must be set together (or neither, to use the AWS default credential chain)',
      { setting: 's3AccessKeyId' },
    );
  }
  const s3Only = ['s3Endpoint', 's3Prefix', 's3AccessKeyId'] as const;
  if (r.s3Bucket === undefined && s3Only.some((k) => r[k] !== undefined)) {
    throw invalid('S3 settings are set but TROVE_S3_BUCKET is not; set the bucket to use S3', {
      setting: 's3Bucket',
    });
  }
  return {
    dataDir: resolve(r.dataDir),
    host: r.host,
    port: r.port,
    worker: r.worker,
    workerConcurrency: r.workerConcurrency,
    archiveFormats: r.archiveFormats,
    archiveKeep: r.archiveKeep,
    archiveGraceSeconds: r.archiveGraceSeconds ?? r.urlTtlSeconds,
    tempMaxAgeSeconds: r.tempMaxAgeSeconds ?? Math.max(60, r.urlTtlSeconds),
    sessionTtlSeconds: r.sessionTtlSeconds,
    urlTtlSeconds: r.urlTtlSeconds,
    commitBudgetBytes: r.commitBudgetBytes,
    commitBudgetEntries: r.commitBudgetEntries,
    commitBudgetChunkRefs: r.commitBudgetChunkRefs,
    deltaMaxManifestBytes: r.deltaMaxManifestBytes,
    maxExpensiveRequests: r.maxExpensiveRequests,
    tenant: r.tenant,
    databaseUrl: r.databaseUrl,
    databasePoolSize: r.databasePoolSize,
    s3:
      r.s3Bucket === undefined
        ? undefined
        : {
            bucket: r.s3Bucket,
            region: r.s3Region,
            endpoint: r.s3Endpoint,
            forcePathStyle: r.s3ForcePathStyle,
            prefix: r.s3Prefix,
            credentials:
              keyId !== undefined && secretKey !== undefined
                ? {
                    accessKeyId: keyId,
                    secretAccessKey: secretKey,
                    ...(r.s3SessionToken !== undefined ? { sessionToken: r.s3SessionToken } : {}),
                  }
                : undefined,
            partSizeBytes: r.s3PartSizeBytes,
          },
    shutdownGraceSeconds: r.shutdownGraceSeconds,
    logLevel: r.logLevel,
    logFormat: r.logFormat,
  };
}

/** A database URL safe to print: the password replaced. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

/**
 * The HMAC secret of the local blob store: generated once with a CSPRNG and
 * kept in `<dataDir>/secret` (mode 0600) so signed URLs survive restarts.
 */
export function loadOrCreateSecret(dataDir: string): Buffer {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = join(dataDir, 'secret');
  try {
    const hex = readFileSync(file, 'utf8').trim();
    // Anyone who reads the key can sign URLs for every blob: keep it the server user's.
    if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
    if (/^[0-9a-f]{64,}$/.test(hex)) return Buffer.from(hex, 'hex');
    throw new TroveError(
      'invalid_config',
      `${file} does not hold a hex secret; delete it to regenerate`,
    );
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const secret = randomBytes(32);
  // 'wx' so two processes racing to create it cannot both win silently.
  writeFileSync(file, `${secret.toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return secret;
}
