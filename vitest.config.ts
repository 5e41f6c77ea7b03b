import { defineConfig } from 'vitest/config';
import { readTestEnv } from './src/testing/env.js';

export const config = defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Output of passing tests is noise: console output (vitest) and raw
    // stdout/stderr writes (src/testing/test-logs-setup.ts) are shown only for a
    // failing test. TROVE_TEST_LOGS=1 shows everything.
    silent: readTestEnv(process.env).showLogs ? false : 'passed-only',
    setupFiles: ['src/testing/test-logs-setup.ts'],
  },
});

// vitest loads the default export of its config file; Biome's noDefaultExport is
// relaxed for this one file in biome.json overrides.
export default config;
