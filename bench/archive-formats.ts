import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Transform } from 'node:stream';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { createZstdDecompressStream } from '../src/core/zstd-stream.js';
import { archiveCompressor } from '../src/services/materialize.js';
import { readBenchEnv } from './env.js';
import { median } from './stats.js';
import { generateWorkspace } from './workload.js';

/**
 * Picks the default archive format by measurement: compresses a tar of the
 * bench workspace with the worker's own compressors (gzip level 4, zstd
 * level 3 in 4 MiB frames) and decompresses it with the client's own
 * decompressors. Prints a table of medians.
 *
 *   npm run build && node dist/bench/archive-formats.js
 */

const CACHE = join(import.meta.dirname, '..', '..', 'bench', '.cache', 'formats');
const { runs: RUNS, scale: SCALE } = readBenchEnv();

async function timeThrough(
  input: Buffer,
  make: () => Transform,
): Promise<{ ms: number; out: Buffer }> {
  const parts: Buffer[] = [];
  const start = performance.now();
  await pipeline(
    Readable.from(chunksOf(input)),
    make(),
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        parts.push(chunk);
        cb();
      },
    }),
  );
  return { ms: performance.now() - start, out: Buffer.concat(parts) };
}

function* chunksOf(buf: Buffer): Generator<Buffer> {
  for (let i = 0; i < buf.length; i += 1024 * 1024) yield buf.subarray(i, i + 1024 * 1024);
}

async function main(): Promise<void> {
  const ws = join(CACHE, 'ws');
  if (!existsSync(ws)) {
    mkdirSync(CACHE, { recursive: true });
    generateWorkspace(ws, { scale: SCALE });
  }
  const tarPath = join(CACHE, 'ws.tar');
  execFileSync('tar', ['-cf', tarPath, '-C', ws, '.']);
  const tar = readFileSync(tarPath);
  const mb = tar.length / 1e6;
  const rows: string[] = [];
  const formats = [
    {
      name: 'tar.gz',
      compress: () => archiveCompressor('tar.gz'),
      decompress: () => createGunzip(),
    },
    {
      name: 'tar.zst',
      compress: () => archiveCompressor('tar.zst'),
      decompress: () => createZstdDecompressStream(),
    },
  ];
  for (const f of formats) {
    const c: number[] = [];
    const d: number[] = [];
    let size = 0;
    for (let i = 0; i < RUNS; i++) {
      const packed = await timeThrough(tar, f.compress);
      c.push(packed.ms);
      size = packed.out.length;
      const unpacked = await timeThrough(packed.out, f.decompress);
      d.push(unpacked.ms);
      if (!unpacked.out.equals(tar)) throw new Error(`${f.name}: round trip differs`);
    }
    const cm = median(c) ?? Number.NaN;
    const dm = median(d) ?? Number.NaN;
    rows.push(
      `| ${f.name} | ${((100 * size) / tar.length).toFixed(1)} % | ${(mb / (cm / 1000)).toFixed(0)} MB/s | ${(mb / (dm / 1000)).toFixed(0)} MB/s |`,
    );
  }
  console.log(`tar of the bench workspace: ${mb.toFixed(1)} MB, ${RUNS} runs, medians\n`);
  console.log('| format | size | compress (worker) | decompress (client) |');
  console.log('|---|---|---|---|');
  for (const r of rows) console.log(r);
}

await main();
