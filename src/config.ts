import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import type { ArchiveFormat } from './core/types.js';
import { TroveError } from './errors.js';

/**
 * The server configuration, read and validated once from flags and the
 * environment. Nothing else in the codebase reads process.env for server
 * settings: everything flows from the object this module returns.
 */
export interface ServerConfig {
  /** Absolute path of the data directory (PGlite database, local blobs, secret). */
  dataDir: string;
  /** Interface the HTTP server binds. */
  host: string;
  /** TCP port; 0 picks a free one. */
  port: number;
  /** Whether this process also runs the materialize worker. */
  worker: boolean;
  /** Archive formats materialized for every committed version. */
  archiveFormats: ArchiveFormat[];
  /** Lifetime of an upload session (its GC lease). */
  sessionTtlSeconds: number;
  /** Lifetime of presigned URLs. */
  urlTtlSeconds: number;
  /** Pack bytes one commit call verifies before answering 202. */
  commitBudgetBytes: number;
  /** Manifest entries one commit call checks against the index before answering 202. */
  commitBudgetEntries: number;
  /** The tenant every request acts for until authentication exists. */
  tenant: string;
}

/** The subset of the configuration the services need (tests build it directly). */
export type ServiceConfig = Pick<
  ServerConfig,
  | 'archiveFormats'
  | 'sessionTtlSeconds'
  | 'urlTtlSeconds'
  | 'commitBudgetBytes'
  | 'commitBudgetEntries'
>;

/** Defaults shared by loadServerConfig and tests. */
export const DEFAULT_SERVICE_CONFIG: ServiceConfig = {
  archiveFormats: ['tar.zst'],
  sessionTtlSeconds: 24 * 3600,
  urlTtlSeconds: 3600,
  commitBudgetBytes: 256 * 1024 * 1024,
  commitBudgetEntries: 500_000,
};

type Flags = Record<string, string | boolean | undefined>;
type Env = Record<string, string | undefined>;

const intSchema = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const boolSchema = z
  .union([z.boolean(), z.enum(['1', '0', 'true', 'false', 'yes', 'no'])])
  .transform((v) => v === true || v === '1' || v === 'true' || v === 'yes');

const formatsSchema = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((f) => f.trim())
      .filter((f) => f !== ''),
  )
  .pipe(z.array(z.enum(['tar.gz', 'tar.zst'])).min(1))
  .transform((list) => [...new Set(list)]);

/** One setting: where it comes from and how it is validated. */
interface Setting {
  flag?: string;
  env?: string;
  schema: z.ZodType;
  fallback: unknown;
}

const SETTINGS = {
  dataDir: { flag: 'data', env: 'TROVE_DATA_DIR', schema: z.string().min(1), fallback: './.trove' },
  host: { flag: 'host', env: 'TROVE_HOST', schema: z.string().min(1), fallback: '127.0.0.1' },
  port: { flag: 'port', env: 'TROVE_PORT', schema: intSchema(0, 65535), fallback: 7070 },
  worker: { flag: 'worker', env: 'TROVE_WORKER', schema: boolSchema, fallback: true },
  archiveFormats: { env: 'TROVE_ARCHIVE_FORMATS', schema: formatsSchema, fallback: 'tar.zst' },
  sessionTtlSeconds: {
    env: 'TROVE_SESSION_TTL_SECONDS',
    schema: intSchema(60, 30 * 24 * 3600),
    fallback: DEFAULT_SERVICE_CONFIG.sessionTtlSeconds,
  },
  urlTtlSeconds: {
    env: 'TROVE_URL_TTL_SECONDS',
    schema: intSchema(10, 7 * 24 * 3600),
    fallback: DEFAULT_SERVICE_CONFIG.urlTtlSeconds,
  },
  commitBudgetBytes: {
    env: 'TROVE_COMMIT_BUDGET_BYTES',
    schema: intSchema(1, 2 ** 40),
    fallback: DEFAULT_SERVICE_CONFIG.commitBudgetBytes,
  },
  commitBudgetEntries: {
    env: 'TROVE_COMMIT_BUDGET_ENTRIES',
    schema: intSchema(1, 100_000_000),
    fallback: DEFAULT_SERVICE_CONFIG.commitBudgetEntries,
  },
  tenant: {
    env: 'TROVE_TENANT',
    schema: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/),
    fallback: 'default',
  },
} satisfies Record<keyof ServerConfig, Setting>;

/**
 * Builds the configuration from CLI flags (without leading dashes; `--no-worker`
 * arrives as `worker: false` or `'no-worker': true`) and the environment.
 * Flags win over the environment. Throws TroveError('invalid_config') naming
 * the flag or variable at fault.
 */
export function loadServerConfig(flags: Flags, env: Env = process.env): ServerConfig {
  const out: Record<string, unknown> = {};
  for (const [name, setting] of Object.entries(SETTINGS) as [string, Setting][]) {
    let raw: unknown;
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
    } else {
      raw = setting.fallback;
    }
    if (name === 'worker' && flags['no-worker'] === true) {
      raw = false;
      source = '--no-worker';
    }
    const parsed = setting.schema.safeParse(raw);
    if (!parsed.success) {
      const why = parsed.error.issues.map((i) => i.message).join('; ');
      throw new TroveError('invalid_config', `invalid ${source}=${String(raw)}: ${why}`, {
        setting: name,
        source,
      });
    }
    out[name] = parsed.data;
  }
  const config = out as unknown as ServerConfig;
  config.dataDir = resolve(config.dataDir);
  return config;
}

/**
 * The HMAC secret of the local blob store: generated once with a CSPRNG and
 * kept in `<dataDir>/secret` (mode 0600) so signed URLs survive restarts.
 */
export function loadOrCreateSecret(dataDir: string): Buffer {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, 'secret');
  try {
    const hex = readFileSync(file, 'utf8').trim();
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
