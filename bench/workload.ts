import {
  appendFileSync,
  chmodSync,
  closeSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { codeLine, codeText, logText, makeVocabulary } from './codegen.js';
import { Prng, randomBytes } from './prng.js';

/**
 * The agent-like workspace the bench pushes and pulls: many small source
 * files, a few large incompressible binaries, an append-only log, a
 * database-like file rewritten in place page by page, symlinks, executables
 * and empty directories. Fully determined by the seed and the scale.
 */

const KIB = 1024;
const MIB = 1024 * KIB;
const PAGE = 4 * KIB;
const SEED = 'trove-bench-v1';
const T0 = Date.UTC(2026, 0, 1);

/** Knobs of the generator; `scale` 1 gives ~165 MB. */
export interface WorkloadOptions {
  scale: number;
  /** Number of source files; defaults to 4000 × scale (lets file count and bytes scale apart). */
  files?: number;
}

/** Size in bytes of one page of the database-like file. */
export const DB_PAGE = PAGE;

export const vocabulary = (): string[] => makeVocabulary(new Prng(`${SEED}:vocab`), 400);

/** Relative paths of the source files that edits may modify or delete. */
export function sourceFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const e of readdirSync(join(root, rel), { withFileTypes: true })) {
      const p = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push(p);
    }
  };
  walk('src');
  // readdir order is filesystem-specific; sorting keeps edits deterministic.
  return out.sort();
}

export function dbPage(seed: string, vocab: readonly string[], pageNo: number): Buffer {
  // Half random (keys, binary columns), half text rows: compresses ~2× like real databases.
  const page = Buffer.alloc(PAGE);
  randomBytes(seed, PAGE / 2).copy(page, 0);
  page.writeUInt32LE(pageNo, 0);
  const rng = new Prng(seed);
  let rows = '';
  while (rows.length < PAGE / 2)
    rows += `${rng.pick(vocab)}|${rng.int(0, 1e6)}|${rng.pick(vocab)};`;
  page.write(rows.slice(0, PAGE / 2), PAGE / 2, 'latin1');
  return page;
}

/** Creates the initial workspace in `root` (emptied first). Returns its size in bytes. */
export function generateWorkspace(root: string, opts: WorkloadOptions): number {
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  const rng = new Prng(`${SEED}:layout`);
  const vocab = vocabulary();
  let total = 0;

  // Nested source tree: ~12 files per directory, depth 1–4.
  const nFiles = opts.files ?? Math.max(10, Math.round(4000 * opts.scale));
  const dirs: string[] = [];
  for (let i = 0; i < Math.ceil(nFiles / 12); i++) {
    const depth = rng.int(1, 4);
    const parts = ['src'];
    for (let d = 0; d < depth; d++) parts.push(`${rng.pick(vocab)}${d === 0 ? '' : rng.int(0, 9)}`);
    dirs.push(parts.join('/'));
  }
  const exts = ['ts', 'ts', 'ts', 'py', 'md', 'json'];
  for (let i = 0; i < nFiles; i++) {
    const dir = rng.pick(dirs);
    mkdirSync(join(root, dir), { recursive: true });
    // Skewed sizes: most files small, some up to 40 KiB.
    const size = Math.round(KIB + rng.float() ** 1.5 * 39 * KIB);
    const text = codeText(new Prng(`${SEED}:src:${i}`), vocab, size);
    writeFileSync(join(root, dir, `${rng.pick(vocab)}-${i}.${rng.pick(exts)}`), text);
    total += text.length;
  }

  mkdirSync(join(root, 'tools'));
  for (let i = 0; i < 20; i++) {
    const p = join(root, 'tools', `task-${i}.sh`);
    const text = `#!/bin/sh\n${codeText(new Prng(`${SEED}:tool:${i}`), vocab, 2 * KIB)}`;
    writeFileSync(p, text);
    chmodSync(p, 0o755);
    total += text.length;
  }

  mkdirSync(join(root, 'assets'));
  for (let i = 0; i < 3; i++) {
    const size = Math.max(KIB, Math.round(rng.int(8, 16) * MIB * opts.scale));
    writeFileSync(join(root, 'assets', `model-${i}.bin`), randomBytes(`${SEED}:bin:${i}`, size));
    total += size;
  }

  mkdirSync(join(root, 'data'));
  const pages = Math.max(4, Math.round((32 * MIB * opts.scale) / PAGE));
  const fd = openSync(join(root, 'data', 'app.db'), 'w');
  for (let p = 0; p < pages; p++) writeSync(fd, dbPage(`${SEED}:db:0:${p}`, vocab, p));
  closeSync(fd);
  total += pages * PAGE;

  mkdirSync(join(root, 'logs'));
  const log = logText(new Prng(`${SEED}:log:0`), vocab, Math.round(12 * MIB * opts.scale), T0);
  writeFileSync(join(root, 'logs', 'agent.log'), log);
  total += log.length;

  // Relative links that stay inside the tree (pull rejects escapes by design).
  mkdirSync(join(root, 'links'));
  symlinkSync('../tools', join(root, 'links', 'tools'));
  symlinkSync('../logs/agent.log', join(root, 'links', 'latest.log'));
  for (let i = 0; i < 8; i++) symlinkSync(`../tools/task-${i}.sh`, join(root, 'links', `run-${i}`));
  for (const d of ['empty/a', 'empty/b/c', 'tmp']) mkdirSync(join(root, d), { recursive: true });
  return total;
}

/**
 * Applies edit step `step` (1-based) in place: a ~1% change as an agent run
 * makes it — a few source files edited, the log appended, a few database
 * pages rewritten, one file added and one deleted.
 */
/** Edits `count` of `files` as an agent does: a few lines replaced or inserted in each. */
export function editSourceFiles(
  root: string,
  files: readonly string[],
  count: number,
  rng: Prng,
  vocab: readonly string[],
): void {
  for (const idx of rng.sample(files.length, count)) {
    const p = join(root, files[idx]!);
    const lines = readFileSync(p, 'utf8').split('\n');
    const at = rng.int(0, lines.length - 1);
    const fresh: string[] = [];
    for (let i = rng.int(1, 8); i > 0; i--) fresh.push(codeLine(rng, vocab, 1));
    lines.splice(at, rng.int(0, 3), ...fresh);
    writeFileSync(p, lines.join('\n'));
  }
}

export function applyStep(root: string, step: number, opts: WorkloadOptions): void {
  const rng = new Prng(`${SEED}:step:${step}`);
  const vocab = vocabulary();
  const files = sourceFiles(root);

  editSourceFiles(root, files, Math.max(1, Math.round(25 * opts.scale)), rng, vocab);

  appendFileSync(
    join(root, 'logs', 'agent.log'),
    logText(rng, vocab, Math.round(256 * KIB * opts.scale), T0 + step * 86_400_000),
  );

  // Rewrite pages in place (no truncation), like a database checkpoint.
  const dbPath = join(root, 'data', 'app.db');
  const pages = Math.max(4, Math.round((32 * MIB * opts.scale) / PAGE));
  const fd = openSync(dbPath, 'r+');
  for (const p of rng.sample(pages, 6)) {
    writeSync(fd, dbPage(`${SEED}:db:${step}:${p}`, vocab, p), 0, PAGE, p * PAGE);
  }
  closeSync(fd);

  const victim = files[rng.int(0, files.length - 1)]!;
  rmSync(join(root, victim));
  const text = codeText(rng, vocab, rng.int(2, 30) * KIB);
  writeFileSync(join(root, 'src', `added-step-${step}.ts`), text);
}
