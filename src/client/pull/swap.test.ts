import { spawnSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TroveError } from '../../errors.js';
import { makeTempDir, recoverTarget, swapIn, targetState } from './swap.js';

let base: string;
beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'trove-swap-'));
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

function tree(dir: string, files: Record<string, string>): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
}

function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '']).pid!;
}

describe('swap', () => {
  it('moves the new tree into an absent, empty or non-empty target, leaving nothing beside it', async () => {
    for (const before of ['absent', 'empty', 'nonempty'] as const) {
      const target = join(base, `t-${before}`);
      if (before !== 'absent') tree(target, before === 'nonempty' ? { old: 'x' } : {});
      const state = await targetState(target);
      expect(state).toBe(before);
      const temp = await makeTempDir(target);
      tree(temp, { new: 'y' });
      await swapIn(temp, target, state);
      expect(readdirSync(target)).toEqual(['new']);
    }
    expect(readdirSync(base).sort()).toEqual(['t-absent', 't-empty', 't-nonempty']);
  });

  it('refuses a target that is a file or a symlink', async () => {
    writeFileSync(join(base, 'file'), 'x');
    symlinkSync('file', join(base, 'link'));
    for (const name of ['file', 'link']) {
      const err = await targetState(join(base, name)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TroveError);
      expect((err as TroveError).code).toBe('target_conflict');
    }
  });

  it('refuses to swap over a target that was filled meanwhile', async () => {
    const target = join(base, 'ws');
    const temp = await makeTempDir(target);
    tree(temp, { new: 'y' });
    tree(target, { theirs: 'z' });
    await expect(swapIn(temp, target, 'absent')).rejects.toMatchObject({ code: 'target_conflict' });
    expect(readdirSync(target)).toEqual(['theirs']);
  });

  it('rolls back when the second rename fails', async () => {
    const target = join(base, 'ws');
    tree(target, { keep: 'old content' });
    const missingTemp = join(base, '.ws.trove-tmp-1-gone');
    await expect(swapIn(missingTemp, target, 'nonempty')).rejects.toThrow();
    expect(readFileSync(join(target, 'keep'), 'utf8')).toBe('old content');
    expect(readdirSync(base)).toEqual(['ws']);
  });

  it('restores the previous tree left by a crash between the two renames', async () => {
    const target = join(base, 'ws');
    const pid = deadPid();
    tree(join(base, `.ws.trove-old-${pid}-abc123`), { keep: 'old content' });
    tree(join(base, `.ws.trove-tmp-${pid}-def456`), { half: 'built' });
    const r = await recoverTarget(target);
    expect(r).toEqual({ restored: true, removed: 1 });
    expect(readFileSync(join(target, 'keep'), 'utf8')).toBe('old content');
    expect(readdirSync(base)).toEqual(['ws']);
  });

  it('removes an old tree left after the swap finished, but not the work of a live pull', async () => {
    const target = join(base, 'ws');
    tree(target, { current: 'new' });
    tree(join(base, `.ws.trove-old-${deadPid()}-abc123`), { keep: 'old' });
    const live = `.ws.trove-tmp-${process.pid}-fff000`;
    tree(join(base, live), {});
    const r = await recoverTarget(target);
    expect(r).toEqual({ restored: false, removed: 1 });
    expect(readdirSync(base).sort()).toEqual([live, 'ws'].sort());
    expect(readdirSync(target)).toEqual(['current']);
  });
});
