import {
  appendFileSync,
  closeSync,
  openSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { codeText, logText } from '../codegen.js';
import { Prng, randomBytes } from '../prng.js';
import {
  DB_PAGE,
  dbPage,
  editSourceFiles,
  generateWorkspace,
  sourceFiles,
  vocabulary,
  type WorkloadOptions,
} from '../workload.js';
import type { SizeName } from './env.js';

/**
 * The synthetic agent workspace of bench/workload.ts at the three
 * sizes, and edits of a chosen fraction (bench/workload.ts's own step is a
 * fixed ~1%; the comparison also needs 10%).
 */

const KIB = 1024;
const SEED = 'trove-compare-v1';

/** Source file count and byte scale: source files average ~16.6 KiB, the rest scales with `scale`. */
export const SIZE_OPTIONS: Record<SizeName, WorkloadOptions> = {
  tiny: { files: 100, scale: 0.04 }, // ~5 MB
  small: { files: 1_000, scale: 0.42 }, // ~50 MB
  medium: { files: 10_000, scale: 1.7 }, // ~300 MB
  large: { files: 100_000, scale: 4 }, // ~2 GB
};

export function generate(root: string, size: SizeName): void {
  generateWorkspace(root, SIZE_OPTIONS[size]);
}

/**
 * Edits `percent`% of the workspace in place, as an agent run would:
 * that share of source files edited (lines replaced and inserted), of
 * database pages rewritten, of each binary overwritten in one region
 * (a retrained layer), the log appended, and a few files added and deleted.
 */
export function applyEdit(root: string, step: number, percent: number): void {
  const f = percent / 100;
  const rng = new Prng(`${SEED}:step:${step}`);
  const vocab = vocabulary();
  const files = sourceFiles(root);

  editSourceFiles(root, files, Math.max(1, Math.round(f * files.length)), rng, vocab);

  const log = join(root, 'logs', 'agent.log');
  const logBytes = Math.max(64 * KIB, Math.round(statSync(log).size * f));
  appendFileSync(log, logText(rng, vocab, logBytes, Date.UTC(2026, 1, 1) + step * 86_400_000));

  const db = join(root, 'data', 'app.db');
  const pages = Math.floor(statSync(db).size / DB_PAGE);
  const fd = openSync(db, 'r+');
  for (const p of rng.sample(pages, Math.max(1, Math.round(f * pages)))) {
    writeSync(fd, dbPage(`${SEED}:db:${step}:${p}`, vocab, p), 0, DB_PAGE, p * DB_PAGE);
  }
  closeSync(fd);

  // 1% edits leave the binaries alone; larger ones rewrite a region of each.
  if (percent >= 5) {
    for (let i = 0; i < 3; i++) {
      const bin = join(root, 'assets', `model-${i}.bin`);
      const size = statSync(bin).size;
      const len = Math.round(size * f);
      const bfd = openSync(bin, 'r+');
      writeSync(bfd, randomBytes(`${SEED}:bin:${step}:${i}`, len), 0, len, rng.int(0, size - len));
      closeSync(bfd);
    }
  }

  const churn = Math.max(1, Math.round((f * files.length) / 10));
  for (const idx of rng.sample(files.length, churn)) rmSync(join(root, files[idx]!));
  for (let i = 0; i < churn; i++) {
    const text = codeText(rng, vocab, rng.int(2, 30) * KIB);
    writeFileSync(join(root, 'src', `added-${step}-${i}.ts`), text);
  }
}
