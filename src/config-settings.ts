import { z } from 'zod';

/**
 * Every server setting in one table: the flag and environment variable it is
 * read from, how it is validated and its default. docs/configuration.md lists
 * the same table for users; config.test.ts checks they agree.
 */

/** One setting: where it comes from and how it is validated. */
export interface Setting {
  /** Command-line flag, without dashes. */
  flag?: string;
  /** Environment variable. */
  env?: string;
  /** Validates and converts the raw string (or boolean flag). */
  schema: z.ZodType;
  /** Raw default; undefined leaves the setting unset. */
  fallback: unknown;
  /** Never echoed back in error messages. */
  secret?: boolean;
}

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

const databaseUrlSchema = z
  .string()
  .refine((s) => /^postgres(ql)?:\/\//.test(s) && URL.canParse(s), {
    message: 'expected a postgres:// or postgresql:// connection URL',
  })
  .optional();

const httpUrlSchema = z
  .string()
  .refine((s) => /^https?:\/\//.test(s) && URL.canParse(s), {
    message: 'expected an http:// or https:// URL',
  })
  .optional();

const optionalString = z.string().min(1).optional();

/** Defaults of the service settings, shared with tests. */
export const SERVICE_DEFAULTS = {
  sessionTtlSeconds: 24 * 3600,
  urlTtlSeconds: 3600,
  commitBudgetBytes: 256 * 1024 * 1024,
  commitBudgetEntries: 500_000,
  commitBudgetChunkRefs: 250_000,
  deltaMaxManifestBytes: 32 * 1024 * 1024,
  maxExpensiveRequests: 8,
} as const;

export const SETTINGS = {
  dataDir: { flag: 'data', env: 'TROVE_DATA_DIR', schema: z.string().min(1), fallback: './.trove' },
  host: { flag: 'host', env: 'TROVE_HOST', schema: z.string().min(1), fallback: '127.0.0.1' },
  port: { flag: 'port', env: 'TROVE_PORT', schema: intSchema(0, 65535), fallback: 7070 },
  worker: { flag: 'worker', env: 'TROVE_WORKER', schema: boolSchema, fallback: true },
  workerConcurrency: {
    flag: 'concurrency',
    env: 'TROVE_WORKER_CONCURRENCY',
    schema: intSchema(1, 64),
    fallback: 1,
  },
  archiveFormats: { env: 'TROVE_ARCHIVE_FORMATS', schema: formatsSchema, fallback: 'tar.zst' },
  archiveKeep: { env: 'TROVE_ARCHIVE_KEEP', schema: intSchema(0, 1_000_000), fallback: 1 },
  // Unset means "the URL TTL": every download URL handed out before the
  // eviction has expired by the time the object goes.
  archiveGraceSeconds: {
    env: 'TROVE_ARCHIVE_GRACE_SECONDS',
    schema: intSchema(0, 30 * 24 * 3600).optional(),
    fallback: undefined,
  },
  // Unset means "the URL TTL" (at least a minute): a temp file of the local
  // blob store not written for that long belongs to an upload or archive
  // build that died.
  tempMaxAgeSeconds: {
    env: 'TROVE_TEMP_MAX_AGE_SECONDS',
    schema: intSchema(1, 7 * 24 * 3600).optional(),
    fallback: undefined,
  },
  sessionTtlSeconds: {
    env: 'TROVE_SESSION_TTL_SECONDS',
    schema: intSchema(60, 30 * 24 * 3600),
    fallback: SERVICE_DEFAULTS.sessionTtlSeconds,
  },
  urlTtlSeconds: {
    env: 'TROVE_URL_TTL_SECONDS',
    schema: intSchema(10, 7 * 24 * 3600),
    fallback: SERVICE_DEFAULTS.urlTtlSeconds,
  },
  commitBudgetBytes: {
    env: 'TROVE_COMMIT_BUDGET_BYTES',
    schema: intSchema(1, 2 ** 40),
    fallback: SERVICE_DEFAULTS.commitBudgetBytes,
  },
  commitBudgetEntries: {
    env: 'TROVE_COMMIT_BUDGET_ENTRIES',
    schema: intSchema(1, 100_000_000),
    fallback: SERVICE_DEFAULTS.commitBudgetEntries,
  },
  commitBudgetChunkRefs: {
    env: 'TROVE_COMMIT_BUDGET_CHUNK_REFS',
    schema: intSchema(1, 100_000_000),
    fallback: SERVICE_DEFAULTS.commitBudgetChunkRefs,
  },
  deltaMaxManifestBytes: {
    env: 'TROVE_DELTA_MAX_MANIFEST_BYTES',
    schema: intSchema(0, 512 * 1024 * 1024),
    fallback: SERVICE_DEFAULTS.deltaMaxManifestBytes,
  },
  maxExpensiveRequests: {
    env: 'TROVE_MAX_EXPENSIVE_REQUESTS',
    schema: intSchema(1, 10_000),
    fallback: SERVICE_DEFAULTS.maxExpensiveRequests,
  },
  tenant: {
    env: 'TROVE_TENANT',
    schema: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/),
    fallback: 'default',
  },
  databaseUrl: {
    flag: 'database-url',
    env: 'TROVE_DATABASE_URL',
    schema: databaseUrlSchema,
    fallback: undefined,
    secret: true,
  },
  databasePoolSize: { env: 'TROVE_DATABASE_POOL_SIZE', schema: intSchema(1, 1000), fallback: 10 },
  s3Bucket: {
    env: 'TROVE_S3_BUCKET',
    schema: z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'not a valid S3 bucket name')
      .optional(),
    fallback: undefined,
  },
  s3Region: { env: 'TROVE_S3_REGION', schema: z.string().min(1), fallback: 'us-east-1' },
  s3Endpoint: { env: 'TROVE_S3_ENDPOINT', schema: httpUrlSchema, fallback: undefined },
  s3ForcePathStyle: { env: 'TROVE_S3_FORCE_PATH_STYLE', schema: boolSchema, fallback: false },
  s3Prefix: {
    env: 'TROVE_S3_PREFIX',
    schema: z
      .string()
      .regex(/^([A-Za-z0-9._-]+\/)*[A-Za-z0-9._-]+$/, 'segments of [A-Za-z0-9._-] joined by /')
      .optional(),
    fallback: undefined,
  },
  s3AccessKeyId: { env: 'TROVE_S3_ACCESS_KEY_ID', schema: optionalString, fallback: undefined },
  s3SecretAccessKey: {
    env: 'TROVE_S3_SECRET_ACCESS_KEY',
    schema: optionalString,
    fallback: undefined,
    secret: true,
  },
  s3SessionToken: {
    env: 'TROVE_S3_SESSION_TOKEN',
    schema: optionalString,
    fallback: undefined,
    secret: true,
  },
  s3PartSizeBytes: {
    env: 'TROVE_S3_PART_SIZE_BYTES',
    schema: intSchema(5 * 1024 * 1024, 5 * 1024 * 1024 * 1024),
    fallback: 16 * 1024 * 1024,
  },
  shutdownGraceSeconds: {
    env: 'TROVE_SHUTDOWN_GRACE_SECONDS',
    schema: intSchema(0, 3600),
    fallback: 30,
  },
  logLevel: {
    flag: 'log-level',
    env: 'TROVE_LOG_LEVEL',
    schema: z.enum(['debug', 'info', 'warn', 'error']),
    fallback: 'info',
  },
  logFormat: {
    flag: 'log-format',
    env: 'TROVE_LOG_FORMAT',
    schema: z.enum(['json', 'pretty', 'auto']),
    fallback: 'auto',
  },
} satisfies Record<string, Setting>;

/** Names of the raw settings. */
export type SettingName = keyof typeof SETTINGS;
