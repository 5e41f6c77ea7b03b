import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chunkBuffer } from '../core/chunker.js';
import { sha256Hex } from '../core/digest.js';
import { encodeManifest } from '../core/manifest.js';
import { comparePaths } from '../core/paths.js';
import { TAR_END, tarHeader, tarPadding } from '../core/tar.js';
import type { ManifestEntry } from '../core/types.js';

/** Test helper: a tree described in memory. */
export type SpecEntry =
  | { path: string; type: 'file'; data: Buffer; executable?: boolean }
  | { path: string; type: 'dir' }
  | { path: string; type: 'symlink'; target: string };

/** The canonical manifest entries of a spec (sorted, chunked with the real chunker). */
export function manifestOf(spec: readonly SpecEntry[]): ManifestEntry[] {
  const entries: ManifestEntry[] = spec.map((s) => {
    if (s.type !== 'file') return s;
    const chunks = chunkBuffer(s.data).map((c) => ({ digest: sha256Hex(c), size: c.length }));
    return {
      path: s.path,
      type: 'file',
      executable: s.executable ?? false,
      size: s.data.length,
      chunks,
    };
  });
  // Validates the spec the way a real manifest would be.
  encodeManifest(entries);
  return entries.sort((a, b) => comparePaths(a.path, b.path));
}

/** A tar.gz of the spec in manifest order, as the worker writes it. */
export function tarGzOf(spec: readonly SpecEntry[]): Buffer {
  return gzipSync(tarOf(spec));
}

/** An uncompressed tar of the spec in manifest order. */
export function tarOf(spec: readonly SpecEntry[]): Buffer {
  const sorted = [...spec].sort((a, b) => comparePaths(a.path, b.path));
  const parts: Buffer[] = [];
  for (const s of sorted) {
    const size = s.type === 'file' ? s.data.length : 0;
    const mode =
      s.type === 'file' ? (s.executable ? 0o755 : 0o644) : s.type === 'dir' ? 0o755 : 0o777;
    parts.push(
      tarHeader({
        path: s.path,
        type: s.type,
        size,
        mode,
        mtime: 0,
        ...(s.type === 'symlink' ? { linkname: s.target } : {}),
      }),
    );
    if (s.type === 'file') parts.push(s.data, tarPadding(size));
  }
  parts.push(TAR_END);
  return Buffer.concat(parts);
}

/** Deterministic pseudo-random bytes. */
export function bytes(n: number, seed: number): Buffer {
  const out = Buffer.alloc(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = s & 0xff;
  }
  return out;
}

/** A varied tree: exec bits, symlinks, empty dirs and files, non-ASCII names, a multi-chunk file. */
export function sampleSpec(): SpecEntry[] {
  return [
    { path: 'bin', type: 'dir' },
    {
      path: 'bin/run.sh',
      type: 'file',
      data: Buffer.from('#!/bin/sh\necho hi\n'),
      executable: true,
    },
    { path: 'data', type: 'dir' },
    { path: 'data/big.bin', type: 'file', data: bytes(1_500_000, 7) },
    { path: 'data/empty', type: 'file', data: Buffer.alloc(0) },
    { path: 'data/Ünïcödé 文件.txt', type: 'file', data: Buffer.from('naïve\n') },
    { path: 'empty-dir', type: 'dir' },
    { path: 'link-to-run', type: 'symlink', target: 'bin/run.sh' },
    { path: 'data/up', type: 'symlink', target: '../bin' },
    { path: 'README.md', type: 'file', data: Buffer.from('# hello\n') },
  ];
}

/** Everything under `root` as a comparable listing: type, mode bits, content digest or link target. */
export function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string, rel: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const abs = join(dir, name);
      const path = rel === '' ? name : `${rel}/${name}`;
      const st = lstatSync(abs);
      if (st.isSymbolicLink()) out[path] = `symlink ${readlinkSync(abs)}`;
      else if (st.isDirectory()) {
        out[path] = 'dir';
        walk(abs, path);
      } else out[path] = `file ${(st.mode & 0o777).toString(8)} ${sha256Hex(readFileSync(abs))}`;
    }
  };
  walk(root, '');
  return out;
}
