import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forwardChildOutput } from '../../src/testing/test-logs.js';
import { type E2eBackend, openE2eBackend } from '../e2e/backends.js';
import { describeTree } from '../e2e/harness.js';

/**
 * The package as a user gets it: `npm pack`, install the tarball into an
 * empty project, run the README's SDK example and the serverless example of
 * docs/configuration.md from there. dist/ must be built (`npm test` builds
 * first); the pack skips the `prepare` build so this stays fast.
 */

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const FORBID = join(import.meta.dirname, 'forbid-server-deps.mjs');

/** What `npm pack --json` reports. */
interface PackReport {
  filename: string;
  files: { path: string }[];
}

/** The first fenced code block after `heading` in a Markdown file. */
async function codeBlockAfter(file: string, heading: string): Promise<string> {
  const text = await readFile(join(ROOT, file), 'utf8');
  const at = text.indexOf(heading);
  const block = /```ts\n([\s\S]*?)```/.exec(text.slice(at));
  if (at < 0 || !block?.[1]) throw new Error(`no code block after ${heading} in ${file}`);
  return block[1];
}

/** Runs node in the project; rejects with its output on a non-zero exit. */
async function node(
  cwd: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, args, { cwd, env: { ...process.env, ...env }, timeout: 60_000 });
}

describe('the published package', () => {
  let dir: string;
  let project: string;
  let pack: PackReport;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'trove-pack-'));
    const { stdout } = await run(
      'npm',
      ['pack', '--json', '--ignore-scripts', '--pack-destination', dir],
      { cwd: ROOT },
    );
    const reports = JSON.parse(stdout) as PackReport[];
    pack = reports[0] as PackReport;
    // An empty project that installs the tarball. Its dependencies are linked
    // to this checkout's node_modules, so the install needs no network; only
    // the declared dependencies are linked, so an undeclared one still fails.
    project = join(dir, 'project');
    await mkdir(project);
    const manifest = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    const dependencies: Record<string, string> = { trove: `file:../${pack.filename}` };
    for (const name of Object.keys(manifest.dependencies)) {
      dependencies[name] = `file:${join(ROOT, 'node_modules', name)}`;
    }
    await writeFile(
      join(project, 'package.json'),
      JSON.stringify({ name: 'app', private: true, type: 'module', dependencies }),
    );
    await run('npm', ['install', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], {
      cwd: project,
    });
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('contains the entry points and no test code', () => {
    const paths = pack.files.map((f) => f.path);
    for (const entry of ['index', 'client/index', 'server/index']) {
      expect(paths).toContain(`dist/src/${entry}.js`);
      expect(paths).toContain(`dist/src/${entry}.d.ts`);
    }
    expect(paths).toContain('bin/trove.js');
    expect(paths.filter((p) => p.endsWith('.sql')).length).toBeGreaterThan(0);
    const testCode = paths.filter((p) =>
      /(^|\/)(test|testing|bench)\/|\.test\.|(^|\/)test-[^/]*$/.test(p),
    );
    expect(testCode).toEqual([]);
  });

  it('runs the bin', async () => {
    const { stdout } = await node(project, ['node_modules/.bin/trove', '--version']);
    expect(stdout).toMatch(/^trove \d+\.\d+\.\d+/);
  });

  it('loads no server dependency for trove/client, and the check catches one', async () => {
    const load = (entry: string) =>
      node(project, ['--import', FORBID, '--input-type=module', '-e', `await import('${entry}')`]);
    await expect(load('trove/client')).resolves.toBeDefined();
    // The check itself: the server entry imports Hono, PGlite, pg and the AWS SDK.
    await expect(load('trove/server')).rejects.toThrow(/forbidden module loaded/);
    await expect(load('trove')).rejects.toThrow(/forbidden module loaded/);
  });

  describe('against the serverless example on PostgreSQL + S3', () => {
    let backend: E2eBackend;
    let host: ChildProcess | undefined;
    let url: string;

    beforeAll(async () => {
      backend = await openE2eBackend('postgres+s3');
      await writeFile(
        join(project, 'api.mjs'),
        await codeBlockAfter('docs/configuration.md', '## Serverless API'),
      );
      // A platform's role: serve the exported fetch handler over HTTP.
      await writeFile(
        join(project, 'host.mjs'),
        `import { serve } from '@hono/node-server';
import { fetch } from './api.mjs';
serve({ fetch, hostname: '127.0.0.1', port: 0 }, (info) => console.log(\`port \${info.port}\`));
`,
      );
      const child = spawn(process.execPath, ['host.mjs'], {
        cwd: project,
        env: { ...process.env, ...backend.env, TROVE_LOG_LEVEL: 'warn' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      host = child;
      forwardChildOutput(child, 'fetch handler');
      let output = '';
      child.stderr.on('data', (d: Buffer) => {
        output += d.toString();
      });
      url = await new Promise<string>((res, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          output += d.toString();
          const port = /port (\d+)/.exec(output)?.[1];
          if (port) res(`http://127.0.0.1:${port}`);
        });
        child.once('exit', (code) => reject(new Error(`host exited ${code}:\n${output}`)));
      });
    });

    afterAll(async () => {
      if (host && host.exitCode === null) {
        const exited = new Promise((r) => host?.once('exit', r));
        host.kill('SIGTERM');
        await exited;
      }
      await backend?.close();
    });

    it("runs the README's SDK example, loading no server dependency", async () => {
      const example = await codeBlockAfter('README.md', '## SDK');
      expect(example).toContain("from 'trove/client'");
      await writeFile(
        join(project, 'sdk.mjs'),
        `${example.replace('http://127.0.0.1:7070', url)}
console.log(JSON.stringify({ pushed, pulled }));
`,
      );
      await mkdir(join(project, 'workspace', 'src'), { recursive: true });
      await writeFile(join(project, 'workspace', 'src', 'main.ts'), 'export {};\n');
      await writeFile(join(project, 'workspace', 'data.bin'), Buffer.alloc(300_000, 7));
      const { stdout } = await node(project, ['--import', FORBID, 'sdk.mjs'], {
        TROVE_CACHE_DIR: join(dir, 'cache'),
      });
      const { pushed, pulled } = JSON.parse(stdout) as {
        pushed: { version: string };
        pulled: { version: string };
      };
      expect(pulled.version).toBe(pushed.version);
      expect(await describeTree(join(project, 'restore'))).toEqual(
        await describeTree(join(project, 'workspace')),
      );
    });
  });
});
