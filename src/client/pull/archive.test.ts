import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../core/digest.js';
import { decodeManifest, encodeManifest } from '../../core/manifest.js';
import type { ManifestEntry } from '../../core/types.js';
import { createZstdCompressStream } from '../../core/zstd-stream.js';
import { TroveError } from '../../errors.js';
import { CommitTreeCheck } from '../../services/commit-tree.js';
import {
  bytes,
  manifestOf,
  type SpecEntry,
  sampleSpec,
  snapshot,
  tarGzOf,
  tarOf,
} from '../../testing/pull-fixtures.js';
import { buildTar, type RawMember } from '../../testing/tar-fixtures.js';
import { extractStream } from './archive.js';

let base: string;
beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'trove-extract-'));
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

async function extract(tgz: Buffer, entries: readonly ManifestEntry[], root = join(base, 'root')) {
  mkdirSync(root);
  return extractStream(Readable.from([tgz]), { format: 'tar.gz', root, entries });
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    if (!(err instanceof TroveError)) throw err;
    return err.code;
  }
}

function asEntry(m: RawMember): ManifestEntry {
  if (m.type === '5') return { path: m.name, type: 'dir' };
  if (m.type === '2') return { path: m.name, type: 'symlink', target: m.linkname ?? '' };
  const data = m.data ?? Buffer.alloc(0);
  const chunks = data.length > 0 ? [{ digest: sha256Hex(data), size: data.length }] : [];
  return { path: m.name, type: 'file', executable: false, size: data.length, chunks };
}

describe('extractStream', () => {
  it('writes exactly the manifest tree: exec bits, symlinks, empty dirs and files, non-ASCII names', async () => {
    const spec = sampleSpec();
    const r = await extract(tarGzOf(spec), manifestOf(spec));
    expect(r.files).toBe(5);
    const snap = snapshot(join(base, 'root'));
    expect(Object.keys(snap)).toHaveLength(spec.length);
    expect(snap['bin/run.sh']).toMatch(/^file 755 /);
    expect(snap['data/empty']).toMatch(/^file 644 e3b0c442/);
    expect(snap['empty-dir']).toBe('dir');
    expect(snap['data/up']).toBe('symlink ../bin');
    expect(snap['data/Ünïcödé 文件.txt']).toMatch(/^file 644 /);
  });

  it('reads tar.zst (multi-frame) the same way', async () => {
    const spec = sampleSpec();
    const parts: Buffer[] = [];
    const zstd = Readable.from([tarOf(spec)]).pipe(
      createZstdCompressStream({ frameSize: 256 * 1024 }),
    );
    for await (const part of zstd) parts.push(part as Buffer);
    const zst = Buffer.concat(parts);
    const gzRoot = join(base, 'gz');
    await extract(tarGzOf(spec), manifestOf(spec), gzRoot);
    const zstRoot = join(base, 'zst');
    mkdirSync(zstRoot);
    await extractStream(Readable.from([zst]), {
      format: 'tar.zst',
      root: zstRoot,
      entries: manifestOf(spec),
    });
    expect(snapshot(zstRoot)).toEqual(snapshot(gzRoot));
  });

  it('rejects an archive that differs from the manifest in any way', async () => {
    const spec = sampleSpec();
    const entries = manifestOf(spec);
    const cases: Buffer[] = [];
    // Same sizes, one flipped byte in the big file.
    const big = bytes(1_500_000, 7);
    big[1_000_000] = big[1_000_000]! ^ 1;
    cases.push(tarGzOf(spec.map((s) => (s.path === 'data/big.bin' ? { ...s, data: big } : s))));
    cases.push(tarGzOf(spec.filter((s) => s.path !== 'empty-dir')));
    cases.push(tarGzOf([...spec, { path: 'extra', type: 'file', data: Buffer.from('x') }]));
    cases.push(tarGzOf(spec.map((s) => (s.path === 'README.md' ? { ...s, executable: true } : s))));
    cases.push(tarGzOf(spec.map((s) => (s.path === 'data/up' ? { ...s, target: '../data' } : s))));
    cases.push(
      tarGzOf(
        spec.map((s) => (s.path === 'README.md' ? { ...s, data: Buffer.from('# hello!\n') } : s)),
      ),
    );
    const whole = tarGzOf(spec);
    cases.push(whole.subarray(0, whole.length - 100));
    const flipped = Buffer.from(whole);
    const mid = Math.floor(whole.length / 2);
    flipped[mid] = flipped[mid]! ^ 0xff;
    cases.push(flipped);
    for (const [i, tgz] of cases.entries()) {
      const root = join(base, `r${i}`);
      expect(await codeOf(extract(tgz, entries, root)), `case ${i}`).toBe('digest_mismatch');
    }
  });

  it('refuses hostile members and never writes outside the root', async () => {
    const outside = join(base, 'outside');
    const abs = join(base, 'abs-target');
    const hostile: RawMember[][] = [
      [{ name: '../escape', type: '0', data: Buffer.from('x') }],
      [{ name: 'a/../../escape', type: '0', data: Buffer.from('x') }],
      [{ name: abs, type: '0', data: Buffer.from('x') }],
      [{ name: './x', type: '0', data: Buffer.from('x') }],
      [{ name: 'l', type: '2', linkname: '../outside' }],
      [{ name: 'l', type: '2', linkname: abs }],
      [
        { name: 'd', type: '5' },
        { name: 'd/l', type: '2', linkname: '../../outside' },
      ],
      // A harmless-looking link, then a write through it.
      [
        { name: 'sub', type: '5' },
        { name: 'l', type: '2', linkname: 'sub' },
        { name: 'l/x', type: '0', data: Buffer.from('x') },
      ],
      [
        { name: 'l', type: '2', linkname: '.' },
        { name: 'l/x', type: '0', data: Buffer.from('x') },
      ],
      // Lexically inside, but 'a/..' through `a -> .` is the root's parent: in either order.
      [
        { name: 'a', type: '2', linkname: '.' },
        { name: 'c', type: '2', linkname: 'a/..' },
      ],
      [
        { name: 'c', type: '2', linkname: 'a/../outside' },
        { name: 'a', type: '2', linkname: '.' },
      ],
      [
        { name: 'd', type: '5' },
        { name: 'd/e', type: '2', linkname: '..' },
        { name: 'x', type: '2', linkname: 'd/e/../../outside' },
      ],
      // The '..' steps back over a real-looking 'b/b' whose ancestor 'b' is `b -> .` (found by the fuzz test).
      [
        { name: 'a', type: '2', linkname: 'b/b/..' },
        { name: 'b', type: '2', linkname: '.' },
      ],
      [
        { name: 'b', type: '2', linkname: '.' },
        { name: 'a', type: '2', linkname: 'b/b/..' },
      ],
      // Replacing an entry: file then symlink, dir then symlink.
      [
        { name: 'f', type: '0', data: Buffer.from('x') },
        { name: 'f', type: '2', linkname: 'g' },
      ],
      [
        { name: 'd', type: '5' },
        { name: 'd', type: '2', linkname: '..' },
      ],
      [{ name: 'h', type: '1', linkname: '/etc/passwd' }],
      [{ name: 'c', type: '3' }],
      [{ name: 'b', type: '4' }],
      [{ name: 'p', type: '6' }],
    ];
    for (const [i, members] of hostile.entries()) {
      const root = join(base, `r${i}`);
      // The members before the hostile one are in the manifest, so only the policy can refuse it.
      const entries = members.slice(0, -1).map(asEntry);
      expect(await codeOf(extract(gzipSync(buildTar(members)), entries, root)), `case ${i}`).toBe(
        'unsafe_path',
      );
    }
    expect(existsSync(outside) || existsSync(abs) || existsSync(join(base, 'escape'))).toBe(false);
    expect(readdirSync(base).every((n) => /^r\d+$/.test(n))).toBe(true);
  });

  it('accepts symlinks that step back over real directories only', async () => {
    const spec: SpecEntry[] = [
      { path: 'a', type: 'dir' },
      { path: 'a/b', type: 'dir' },
      { path: 'a/b/up', type: 'symlink', target: '../../a/b' },
      { path: 'to-a', type: 'symlink', target: 'a' },
      { path: 'via', type: 'symlink', target: 'to-a/b' },
    ];
    await extract(tarGzOf(spec), manifestOf(spec));
    expect(snapshot(join(base, 'root')).via).toBe('symlink to-a/b');
  });

  it('fuzz: whatever is accepted stays inside the root, and commit accepts exactly the same trees', async () => {
    const path = (segs: fc.Arbitrary<string>, maxLength: number) =>
      fc.array(segs, { minLength: 1, maxLength }).map((s) => s.join('/'));
    // Mostly valid names from a tiny namespace (so trees get accepted and symlinks chain
    // through each other), some hostile ones.
    const name = fc.oneof(
      { weight: 6, arbitrary: path(fc.constantFrom('a', 'b'), 2) },
      { weight: 1, arbitrary: path(fc.constantFrom('a', '..', '.', '', 'x/..', '../a'), 4) },
    );
    const target = path(fc.constantFrom('a', 'b', '..', '.'), 3);
    const memberArb: fc.Arbitrary<RawMember> = fc.oneof(
      name.map((n): RawMember => ({ name: n, type: '0', data: Buffer.from('data') })),
      name.map((n): RawMember => ({ name: n, type: '5' })),
      {
        weight: 3,
        arbitrary: fc
          .tuple(name, target)
          .map(([n, t]): RawMember => ({ name: n, type: '2', linkname: t })),
      },
    );
    // Something to land on if an escape ever worked.
    writeFileSync(join(base, 'a'), 'sentinel');
    let run = 0;
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(memberArb, { minLength: 1, maxLength: 6 }), async (drawn) => {
        const members = withParents(drawn);
        const root = join(base, `f${run++}`);
        mkdirSync(root);
        const sandbox = join(root, 'tree');
        // Every member is in the "manifest": only the path policy can refuse one.
        const code = await codeOf(
          extract(gzipSync(buildTar(members)), members.map(asEntry), sandbox),
        );
        expect(['ok', 'unsafe_path', 'digest_mismatch']).toContain(code);
        if (code === 'ok') accepted++;
        // Invariant 11: commit accepts exactly the trees pull accepts, though it sees them in
        // manifest order and pull in archive order.
        expect(commitAccepts(members.map(asEntry)), JSON.stringify(members)).toBe(code === 'ok');
        expect(readdirSync(root)).toEqual(['tree']);
        for (const link of symlinksUnder(sandbox)) {
          const real = resolvesTo(link);
          if (real !== null)
            expect(`${real}/`.startsWith(`${realpathSync.native(sandbox)}/`), link).toBe(true);
        }
        rmSync(root, { recursive: true });
      }),
      { numRuns: 1000 },
    );
    expect(readdirSync(base)).toEqual(['a']);
    expect(readFileSync(join(base, 'a'), 'utf8')).toBe('sentinel');
    // The property is not vacuous: plenty of random trees are accepted.
    expect(accepted).toBeGreaterThan(20);
  });
});

/** What commit decides for a tree: the manifest decoder's rules, then the symlink rule (commit-tree.ts). */
function commitAccepts(entries: readonly ManifestEntry[]): boolean {
  try {
    const check = new CommitTreeCheck();
    for (const e of decodeManifest(encodeManifest(entries).bytes).entries) check.entry(e);
    return true;
  } catch (err) {
    if (err instanceof TroveError && err.code === 'invalid_manifest') return false;
    throw err;
  }
}

function symlinksUnder(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const abs = join(dir, e.name);
    if (e.isSymbolicLink()) out.push(abs);
    else if (e.isDirectory()) out.push(...symlinksUnder(abs));
  }
  return out;
}

/**
 * Where the kernel resolves a symlink, or null when it does not resolve
 * (dangling, loop). Not plain realpathSync: it normalises '..' in link
 * targets lexically, which is exactly the mistake an escape exploits.
 */
function resolvesTo(link: string): string | null {
  try {
    return realpathSync.native(link);
  } catch {
    return null;
  }
}

/** Lists each member's parent directories before it (once), so more random trees are well formed. */
function withParents(members: readonly RawMember[]): RawMember[] {
  const out: RawMember[] = [];
  const seen = new Set<string>();
  for (const m of members) {
    const segs = m.name.split('/');
    for (let i = 1; i < segs.length; i++) {
      const dir = segs.slice(0, i).join('/');
      if (!seen.has(dir)) out.push({ name: dir, type: '5' });
      seen.add(dir);
    }
    out.push(m);
    seen.add(m.name);
  }
  return out;
}
