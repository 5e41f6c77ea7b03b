/**
 * The test suite's own knobs, read from the environment once and validated
 * here; no other test code reads process.env for them (server settings go
 * through loadServerConfig).
 */
export interface TestEnv {
  /** Admin URL of a PostgreSQL server to create test databases on (TROVE_TEST_DATABASE_URL); undefined starts a throwaway server. */
  databaseUrl: string | undefined;
  /** Backends of the service tests (TROVE_TEST_BACKEND): the embedded default or PostgreSQL + s3rver. */
  backend: 'embedded' | 'postgres+s3';
  /** Print every test's output, not only a failing test's (TROVE_TEST_LOGS=1). */
  showLogs: boolean;
  /** This process runs the quiet-test fixture for test-logs.test.ts (TROVE_TEST_LOGS_FIXTURE=1). */
  logsFixture: boolean;
}

let cached: TestEnv | undefined;

/** The validated test environment (read on first use). */
export function testEnv(): TestEnv {
  cached ??= readTestEnv(process.env);
  return cached;
}

/** Parses the test knobs from an environment; throws naming the variable at fault. */
export function readTestEnv(env: NodeJS.ProcessEnv): TestEnv {
  const backend = env.TROVE_TEST_BACKEND || 'embedded';
  if (backend !== 'embedded' && backend !== 'postgres+s3') {
    throw new Error(`TROVE_TEST_BACKEND must be embedded or postgres+s3, not ${backend}`);
  }
  const url = env.TROVE_TEST_DATABASE_URL?.trim();
  return {
    databaseUrl: url ? url : undefined,
    backend,
    showLogs: env.TROVE_TEST_LOGS === '1',
    logsFixture: env.TROVE_TEST_LOGS_FIXTURE === '1',
  };
}
