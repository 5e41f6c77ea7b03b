import { describe, expect, it } from 'vitest';
import type { CliIo } from './io.js';
import { main } from './main.js';

/** Runs the CLI in-process with captured output. */
async function run(
  argv: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
    env: { TROVE_CACHE_DIR: '/nonexistent-trove-cache', ...env },
  };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

// A port nothing listens on, so client commands fail fast with `unreachable`.
const DEAD = 'http://127.0.0.1:9';

describe('trove CLI', () => {
  it('prints help and version', async () => {
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('push');
    expect(help.stdout).toContain('serve');
    const version = await run(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(/^trove \d+\.\d+\.\d+/);
    const pushHelp = await run(['push', '--help']);
    expect(pushHelp.code).toBe(0);
    expect(pushHelp.stdout).toContain('--storage');
  });

  it('exits 2 with no command, an unknown command or an unknown flag', async () => {
    expect((await run([])).code).toBe(2);
    const unknown = await run(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
    const flag = await run(['ls', '--bogus']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/^trove: .*--bogus/);
    expect(flag.stderr).toContain('trove ls --help');
  });

  it('names missing arguments', async () => {
    const noDir = await run(['push', '--storage', 's']);
    expect(noDir.code).toBe(2);
    expect(noDir.stderr).toContain('missing DIR');
    const noStorage = await run(['push', '/tmp']);
    expect(noStorage.code).toBe(2);
    expect(noStorage.stderr).toContain('--storage');
    const extra = await run(['log', 'a', 'b']);
    expect(extra.code).toBe(2);
    expect(extra.stderr).toContain('unexpected argument "b"');
    const badRef = await run(['pull', 'demo@zz', '/tmp/x']);
    expect(badRef.code).toBe(2);
    const badLimit = await run(['log', 'demo', '--limit', 'x']);
    expect(badLimit.code).toBe(2);
  });

  it('prints exactly one JSON error object on stdout with --json', async () => {
    const r = await run(['frobnicate', '--json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('');
    const body = JSON.parse(r.stdout) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('invalid_request');
    expect(body.error.message).toContain('frobnicate');
    expect(Object.keys(body)).toEqual(['error']);
  });

  it('maps an unreachable server to exit 6 and rejects a bad server URL', async () => {
    const r = await run(['ls', '--json', '--server', DEAD]);
    expect(r.code).toBe(6);
    expect(JSON.parse(r.stdout).error.code).toBe('unreachable');
    const viaEnv = await run(['log', 'demo'], { TROVE_URL: DEAD });
    expect(viaEnv.code).toBe(6);
    expect(viaEnv.stderr).toContain('cannot reach');
    const bad = await run(['ls', '--server', 'not a url']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('invalid server URL');
  });

  it('reports a missing push directory as invalid_request before contacting the server', async () => {
    const r = await run(['push', '/nonexistent/dir', '--storage', 's', '--server', DEAD, '--json']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout).error.message).toContain('/nonexistent/dir');
  });
});
