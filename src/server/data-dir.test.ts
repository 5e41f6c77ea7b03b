import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import { forwardChildOutput } from '../testing/test-logs.js';
import { lockDataDir } from './data-dir.js';

const here = dirname(fileURLToPath(import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'trove-lock-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Compiles data-dir.ts (and errors.ts) to plain JS so a child Node process can run it. */
function compiledLockModule(): string {
  const out = join(work, 'js');
  for (const [src, dest] of [
    [join(here, 'data-dir.ts'), join(out, 'server', 'data-dir.js')],
    [join(here, '..', 'errors.ts'), join(out, 'errors.js')],
  ] as const) {
    const js = ts.transpileModule(readFileSync(src, 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    mkdirSync(dirname(dest), { recursive: true });
    writeFileSync(dest, js);
  }
  writeFileSync(join(out, 'package.json'), '{"type":"module"}');
  return join(out, 'server', 'data-dir.js');
}

/** Starts a child that takes the lock, prints "locked" and waits for stdin to close. */
async function childHolding(dir: string): Promise<ChildProcess> {
  const mod = compiledLockModule();
  const script = `
    import { lockDataDir } from ${JSON.stringify(mod)};
    const lock = await lockDataDir(${JSON.stringify(dir)});
    console.log('locked');
    process.stdin.resume();
    process.stdin.on('end', async () => { await lock.release(); process.exit(0); });
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  forwardChildOutput(child, 'lock holder', ['stderr']);
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (b: Buffer) => {
      if (b.toString().includes('locked')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`child exited ${code}`)));
  });
  return child;
}

const exited = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });

describe('lockDataDir', () => {
  it('refuses a second lock in the same process, allows it after release', async () => {
    const dir = join(work, 'same');
    const lock = await lockDataDir(dir);
    await expect(lockDataDir(dir)).rejects.toMatchObject({ code: 'data_dir_locked' });
    await lock.release();
    await lock.release();
    const again = await lockDataDir(dir);
    await again.release();
  });

  it('refuses while a live child process holds it, and names the pid', async () => {
    const dir = join(work, 'child');
    const child = await childHolding(dir);
    try {
      const err = await lockDataDir(dir, { waitMs: 0 }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'data_dir_locked', details: { pid: child.pid } });
      expect(String((err as Error).message)).toContain(`process ${child.pid}`);
      expect(String((err as Error).message)).toContain('pass another --data');
    } finally {
      child.stdin?.end();
      await exited(child);
    }
    // The child released on exit: we can take it now.
    const lock = await lockDataDir(dir);
    await lock.release();
  });

  it('takes over the stale lock of a killed process', async () => {
    const dir = join(work, 'stale');
    const child = await childHolding(dir);
    child.kill('SIGKILL');
    await exited(child);
    const left = JSON.parse(readFileSync(join(dir, 'LOCK'), 'utf8')) as { pid: number };
    expect(left.pid).toBe(child.pid);
    const lock = await lockDataDir(dir);
    const now = JSON.parse(readFileSync(join(dir, 'LOCK'), 'utf8')) as { pid: number };
    expect(now.pid).toBe(process.pid);
    await lock.release();
  });

  it('restarts at once after the holder is killed with SIGKILL (dying, not yet reaped)', async () => {
    const dir = join(work, 'dying');
    const child = await childHolding(dir);
    child.kill('SIGKILL');
    // No wait for the exit: a supervisor restarting right away sees the pid still there.
    const lock = await lockDataDir(dir);
    await lock.release();
    await exited(child);
  });

  it('takes over from a killed holder its parent has not reaped (a zombie)', async () => {
    const dir = join(work, 'zombie');
    const mod = compiledLockModule();
    const script = `import { lockDataDir } from ${JSON.stringify(mod)}; await lockDataDir(${JSON.stringify(dir)}); console.log('locked'); setInterval(() => {}, 1000);`;
    // sh starts the holder, then becomes `sleep`, which never reaps it: once killed it stays a zombie.
    const sh = spawn(
      'sh',
      [
        '-c',
        `"$0" --input-type=module -e "$1" & echo "pid $!"; exec sleep 60`,
        process.execPath,
        script,
      ],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    try {
      const pid = await new Promise<number>((resolve) => {
        let out = '';
        sh.stdout?.on('data', (b: Buffer) => {
          out += b.toString();
          const m = /pid (\d+)/.exec(out);
          if (m && out.includes('locked')) resolve(Number(m[1]));
        });
      });
      process.kill(pid, 'SIGKILL');
      for (let i = 0; i < 100; i++) {
        const state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];
        if (state === 'Z') break;
        await new Promise((r) => setTimeout(r, 20));
      }
      const started = Date.now();
      const lock = await lockDataDir(dir, { waitMs: 60_000 });
      expect(Date.now() - started).toBeLessThan(2_000);
      await lock.release();
    } finally {
      sh.kill('SIGKILL');
      await exited(sh);
    }
  });

  it('gives up on a live holder after the wait, saying what to do', async () => {
    const dir = join(work, 'patient');
    const child = await childHolding(dir);
    try {
      const started = Date.now();
      const err = await lockDataDir(dir, { waitMs: 600 }).catch((e: unknown) => e);
      expect(Date.now() - started).toBeGreaterThanOrEqual(500);
      expect(err).toMatchObject({ code: 'data_dir_locked' });
      expect(String((err as Error).message)).toMatch(/stop it .* or pass another --data/);
    } finally {
      child.stdin?.end();
      await exited(child);
    }
  });

  it('takes over an empty or foreign-host lock file', async () => {
    const dir = join(work, 'odd');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'LOCK'), '');
    await (await lockDataDir(dir)).release();
    writeFileSync(
      join(dir, 'LOCK'),
      JSON.stringify({ pid: 1, hostname: `not-${hostname()}`, startedAt: '', nonce: 'x' }),
    );
    const lock = await lockDataDir(dir);
    await lock.release();
  });
});
