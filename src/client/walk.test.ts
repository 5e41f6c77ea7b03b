import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { comparePaths } from '../core/paths.js';
import { TroveError } from '../errors.js';
import { type WalkEntry, type WalkOptions, walk } from './walk.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'trove-walk-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function tree(files: Record<string, string>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
}

async function collect(options?: WalkOptions): Promise<WalkEntry[]> {
  const out: WalkEntry[] = [];
  for await (const e of walk(root, options)) out.push(e);
  return out;
}

async function paths(options?: WalkOptions): Promise<string[]> {
  return (await collect(options)).map((e) => (e.type === 'dir' ? `${e.path}/` : e.path));
}

describe('walk', () => {
  it('yields entries in UTF-8 byte order of full paths', async () => {
    await tree({ 'a/b': '1', 'a.txt': '2', a0: '3', 'z/é': '4', 'z/e': '5', 'z/\u{1F600}': '6' });
    await mkdir(join(root, 'empty'));
    const entries = await collect();
    const ps = entries.map((e) => e.path);
    expect(ps).toEqual([...ps].sort(comparePaths));
    expect(ps).toEqual(['a', 'a.txt', 'a/b', 'a0', 'empty', 'z', 'z/e', 'z/é', 'z/\u{1F600}']);
  });

  it('reports size, exec bit and stat fields for files', async () => {
    await tree({ 'run.sh': '#!/bin/sh\n', 'data.bin': 'xx' });
    await chmod(join(root, 'run.sh'), 0o755);
    const entries = await collect();
    const run = entries.find((e) => e.path === 'run.sh');
    const data = entries.find((e) => e.path === 'data.bin');
    expect(run).toMatchObject({ type: 'file', executable: true, size: 10 });
    expect(data).toMatchObject({ type: 'file', executable: false, size: 2 });
    if (data?.type !== 'file') throw new Error('expected a file');
    expect(data.ino).toBeGreaterThan(0);
    expect(data.mtimeMs).toBeGreaterThan(0);
  });

  it('records symlinks without following them', async () => {
    await tree({ 'real/f': 'x' });
    await symlink('real', join(root, 'link'));
    await symlink('/etc/passwd', join(root, 'abs'));
    const entries = await collect();
    expect(entries.find((e) => e.path === 'link')).toEqual({
      type: 'symlink',
      path: 'link',
      target: 'real',
    });
    expect(entries.find((e) => e.path === 'abs')).toMatchObject({ target: '/etc/passwd' });
    expect(entries.some((e) => e.path.startsWith('link/'))).toBe(false);
  });

  it('applies nested .troveignore files with negation, scoped to their directory', async () => {
    await tree({
      '.troveignore': '*.log\nbuild/\n',
      'a.log': '',
      'keep.txt': '',
      'sub/.troveignore': '!keep.log\n/local.txt\n',
      'sub/keep.log': '',
      'sub/drop.log': '',
      'sub/local.txt': '',
      'sub/deeper/local.txt': '',
      'build/out': '',
      'sub/build/out': '',
    });
    expect(await paths()).toEqual([
      '.troveignore',
      'keep.txt',
      'sub/',
      'sub/.troveignore',
      'sub/deeper/',
      'sub/deeper/local.txt',
      'sub/keep.log',
    ]);
  });

  it('never descends into ignored directories', async () => {
    await tree({ '.troveignore': 'secret\n', 'ok/f': '' });
    await mkdir(join(root, 'secret'));
    await writeFile(join(root, 'secret', 'f'), '');
    // Reading this directory would fail on the non-UTF-8 name (and on permissions when not root).
    await writeFile(Buffer.concat([Buffer.from(`${root}/secret/bad-`), Buffer.from([0xff])]), '');
    await chmod(join(root, 'secret'), 0o000);
    try {
      expect(await paths()).toEqual(['.troveignore', 'ok/', 'ok/f']);
    } finally {
      await chmod(join(root, 'secret'), 0o755);
    }
  });

  it('applies extra patterns, which win over the files', async () => {
    await tree({ '.troveignore': '!*.tmp\n', 'x.tmp': '', 'd/y.tmp': '', 'd/z': '' });
    expect(await paths({ ignore: ['*.tmp'] })).toEqual(['.troveignore', 'd/', 'd/z']);
    expect(await paths({ ignore: ['d/'] })).toEqual(['.troveignore', 'x.tmp']);
  });

  it('skips FIFOs with a warning', async () => {
    await tree({ f: '' });
    execFileSync('mkfifo', [join(root, 'pipe')]);
    const warnings: string[] = [];
    expect(await paths({ onWarning: (m) => warnings.push(m) })).toEqual(['f']);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('pipe');
  });

  it('rejects names that are not valid UTF-8 with invalid_request', async () => {
    const bad = Buffer.concat([Buffer.from(`${root}/bad-`), Buffer.from([0xff, 0xfe])]);
    await writeFile(bad, '');
    const err = await collect().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TroveError);
    expect((err as TroveError).code).toBe('invalid_request');
    expect((err as TroveError).message).toContain('bad-');
  });

  it('rejects a root that is not a directory', async () => {
    await tree({ f: '' });
    const err = await (async () => {
      for await (const _ of walk(join(root, 'f'))) {
        // drain
      }
    })().catch((e: unknown) => e);
    expect((err as TroveError).code).toBe('invalid_request');
  });
});
