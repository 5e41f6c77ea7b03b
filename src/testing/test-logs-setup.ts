import { afterEach, beforeEach } from 'vitest';
import { testEnv } from './env.js';

/**
 * Quiet tests (a vitest setup file, see vitest.config.ts): whatever a test
 * file's process writes to stdout or stderr — the JSON logs of servers the
 * tests start in-process, process warnings, child-process output forwarded
 * by `forwardChildOutput` (test-logs.ts) — goes to a buffer that is printed only when a test
 * fails, under a header naming it. Output between tests (beforeAll, the
 * previous test's teardown) is printed with the next test's. Set
 * TROVE_TEST_LOGS=1 to let everything through while debugging.
 */

type Write = typeof process.stderr.write;

/** The buffer and the real stderr, shared by every test file this process runs. */
interface Capture {
  /** Output since the current test (or the gap before it) began. */
  buffer: string[];
  /** process.stderr.write before it was replaced. */
  realStderr: Write;
}

const KEY = Symbol.for('trove.test-logs');

/** Replaces stdout and stderr writes with the buffer, once per process. */
function capture(): Capture {
  const globals = globalThis as { [KEY]?: Capture };
  const existing = globals[KEY];
  if (existing) return existing;
  const state: Capture = {
    buffer: [],
    realStderr: process.stderr.write.bind(process.stderr) as Write,
  };
  const write = ((chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
    state.buffer.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    const done = rest.find((a) => typeof a === 'function') as (() => void) | undefined;
    if (done) process.nextTick(done);
    return true;
  }) as Write;
  process.stdout.write = write;
  process.stderr.write = write;
  globals[KEY] = state;
  return state;
}

if (!testEnv().showLogs) {
  const state = capture();
  beforeEach((ctx) => {
    // This test's output, and what came before it since the previous test ended.
    const mine = state.buffer;
    ctx.onTestFailed(() => {
      const text = mine.join('');
      const end = text === '' || text.endsWith('\n') ? '' : '\n';
      state.realStderr(
        `\n----- output of failed test: ${ctx.task.fullName} -----\n${text}${end}----- end of output -----\n`,
      );
    });
  });
  afterEach(() => {
    state.buffer = [];
  });
}
