import { describe, expect, it } from 'vitest';
import { createLogger } from '../observability/logger.js';
import { testEnv } from './env.js';

// Run only by test-logs.test.ts, in a child vitest, to see what gets printed.
// Runs only inside the child vitest that test-logs.test.ts starts (it asserts on its output).
describe.runIf(testEnv().logsFixture)('test-logs fixture', () => {
  const logger = createLogger();

  it('passes quietly', () => {
    logger.info('LOG-OF-PASSING-TEST');
    console.log('CONSOLE-OF-PASSING-TEST');
    process.stdout.write('STDOUT-OF-PASSING-TEST\n');
  });

  it('fails loudly', () => {
    logger.info('LOG-OF-FAILING-TEST');
    process.stdout.write('STDOUT-OF-FAILING-TEST\n');
    expect(1).toBe(2);
  });
});
