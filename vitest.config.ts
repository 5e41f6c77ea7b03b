import { defineConfig } from 'vitest/config';

export const config = defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});

// vitest loads the default export of its config file; Biome's noDefaultExport is
// relaxed for this one file in biome.json overrides.
export default config;
