import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');

describe('test output', () => {
  it('is printed for a failing test only', async () => {
    const vitest = resolve(ROOT, 'node_modules/vitest/vitest.mjs');
    const env: NodeJS.ProcessEnv = { ...process.env, TROVE_TEST_LOGS_FIXTURE: '1' };
    delete env.TROVE_TEST_LOGS;
    const out = await run(
      process.execPath,
      [vitest, 'run', 'src/testing/test-logs-fixture.test.ts'],
      { cwd: ROOT, env, timeout: 60_000 },
    ).then(
      () => {
        throw new Error('the fixture has a failing test; vitest must exit non-zero');
      },
      (err: { stdout: string; stderr: string }) => err.stdout + err.stderr,
    );
    expect(out).toContain('LOG-OF-FAILING-TEST');
    expect(out).toContain('STDOUT-OF-FAILING-TEST');
    expect(out).toMatch(/output of failed test: .*fails loudly/);
    expect(out).not.toContain('OF-PASSING-TEST');
  });
});
