import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import { forwardChildOutput } from '../../testing/test-logs.js';
import { openPglite } from './pglite.js';

const here = dirname(fileURLToPath(import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'trove-durability-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// The package's "require" entry is dist/index.cjs; the ESM files sit beside it.
const pgliteDist = dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'));

/** pglite-fs.ts compiled to JS for a plain Node child, its package import made absolute. */
function compiledPgliteFs(): string {
  const js = ts
    .transpileModule(readFileSync(join(here, 'pglite-fs.ts'), 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    })
    .outputText.replaceAll(
      "'@electric-sql/pglite/nodefs'",
      JSON.stringify(pathToFileURL(join(pgliteDist, 'fs', 'nodefs.js')).href),
    )
    .replaceAll(
      "'@electric-sql/pglite'",
      JSON.stringify(pathToFileURL(join(pgliteDist, 'index.js')).href),
    );
  const out = join(work, 'js', 'pglite-fs.mjs');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, js);
  return out;
}

/**
 * A child commits rows one transaction at a time and acknowledges each after
 * COMMIT returns; it is killed with SIGKILL mid-stream. Returns the acked ids.
 */
async function writeThenKill(dataDir: string, durable: boolean, acks: number): Promise<number[]> {
  const fsModule = pathToFileURL(compiledPgliteFs()).href;
  const script = `
    import { PGlite } from ${JSON.stringify(pathToFileURL(join(pgliteDist, 'index.js')).href)};
    import { pgliteDiskOptions } from ${JSON.stringify(fsModule)};
    const db = new PGlite(pgliteDiskOptions(${JSON.stringify(dataDir)}, ${durable}));
    await db.waitReady;
    await db.exec('CREATE TABLE IF NOT EXISTS t (i integer PRIMARY KEY, pad text NOT NULL)');
    for (let i = 0; ; i++) {
      await db.transaction(async (tx) => {
        await tx.query('INSERT INTO t VALUES ($1, repeat($2, 3000))', [i, 'x']);
        await tx.query('UPDATE t SET pad = pad WHERE i = $1', [Math.floor(i / 2)]);
      });
      process.stdout.write('ack ' + i + '\\n');
    }
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  forwardChildOutput(child, 'pglite child', ['stderr']);
  const acked: number[] = [];
  let buffer = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (b: Buffer) => {
      buffer += b.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) if (line.startsWith('ack ')) acked.push(Number(line.slice(4)));
      if (acked.length >= acks && child.exitCode === null) {
        child.kill('SIGKILL');
      }
    });
    child.once('exit', (_code, signal) =>
      signal === 'SIGKILL' ? resolve() : reject(new Error(`child exited without kill: ${_code}`)),
    );
  });
  return acked;
}

describe('PGlite on disk survives kill -9', () => {
  // Generous timeout: the child runs initdb, which takes seconds on a loaded machine.
  it('keeps every acknowledged commit and stays consistent', { timeout: 180_000 }, async () => {
    const dir = join(work, 'db');
    const acked = await writeThenKill(dir, true, 150);
    expect(acked.length).toBeGreaterThanOrEqual(150);
    const db = await openPglite({ dataDir: dir });
    try {
      const seq = await db.query<{ n: number; max: number }>(
        'SELECT count(*)::int AS n, max(i) AS max FROM t',
      );
      const last = acked.at(-1)!;
      // Every acknowledged row is there (at most one more commit landed unacknowledged).
      expect(seq.rows[0]!.max).toBeGreaterThanOrEqual(last);
      expect(seq.rows[0]!.n).toBe(seq.rows[0]!.max + 1);
      // The index agrees with the heap after crash recovery.
      await db.exec('SET enable_seqscan = off');
      const idx = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM t WHERE i >= 0');
      expect(idx.rows[0]!.n).toBe(seq.rows[0]!.n);
      const fsync = await db.query<{ f: string }>("SELECT current_setting('fsync') AS f");
      expect(fsync.rows[0]!.f).toBe('on');
    } finally {
      await db.close();
    }
  });
});
