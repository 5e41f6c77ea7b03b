/**
 * Measures FastCDC parameter choices on deterministic data, to pick
 * CHUNKER_PARAMS (results are copied into docs/formats.md).
 *
 * Run (Node 20 has no TypeScript loader, so compile to a temp dir first):
 *   npx tsc bench/chunker-params.ts --outDir bench/.cache/tsc --rootDir . \
 *     --module nodenext --target es2022 --skipLibCheck && node bench/.cache/tsc/bench/chunker-params.js
 *
 * For each data set it applies scattered edits (4 KiB regions replaced,
 * inserted or deleted, 1% of the bytes in total) and reports which share of
 * the edited version must be uploaded again (bytes in chunks the original
 * lacks), chunks per MiB (manifest and index cost), chunking throughput and
 * the zstd-3 compression ratio when each chunk is compressed on its own.
 */
import { createRequire } from 'node:module';
import { chunkBuffer } from '../src/core/chunker.js';
import { sha256Hex } from '../src/core/digest.js';

const MIB = 1024 * 1024;
const { Encoder } = createRequire(import.meta.url)('@toondepauw/node-zstd') as {
  Encoder: new (level: number) => { encodeSync(b: Buffer): Buffer };
};
const zstd3 = new Encoder(3);
const SIZE = 64 * MIB;

function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

const WORDS = (
  'const let function return if else for while import export from class interface type ' +
  'async await new this value index buffer chunk digest manifest path size offset error ' +
  'string number boolean null undefined true false push map filter reduce length data'
).split(' ');

/** Source-like text: indented lines of identifiers and punctuation. */
function sourceLike(size: number, seed: number): Buffer {
  const rnd = prng(seed);
  const parts: string[] = [];
  let n = 0;
  while (n < size) {
    const indent = '  '.repeat(Math.floor(rnd() * 4));
    const words = Array.from(
      { length: 2 + Math.floor(rnd() * 8) },
      () => WORDS[Math.floor(rnd() * WORDS.length)],
    );
    const line = `${indent}${words.join(rnd() < 0.3 ? '.' : ' ')}${rnd() < 0.5 ? ';' : ' {'} // ${Math.floor(rnd() * 1e6)}\n`;
    parts.push(line);
    n += line.length;
  }
  return Buffer.from(parts.join('')).subarray(0, size);
}

/** Binary blob: float32 random walk, like a model checkpoint or numeric dataset. */
function binaryBlob(size: number, seed: number): Buffer {
  const rnd = prng(seed);
  const f = new Float32Array(size / 4);
  let v = 0;
  for (let i = 0; i < f.length; i++) {
    v += rnd() - 0.5;
    f[i] = v;
  }
  return Buffer.from(f.buffer);
}

/** Replaces, inserts or deletes 4 KiB regions at random places until 1% of the bytes changed. */
function edit(data: Buffer, seed: number): Buffer {
  const rnd = prng(seed);
  const region = 4096;
  const count = Math.round((data.length * 0.01) / region);
  const at = Array.from({ length: count }, () => Math.floor(rnd() * (data.length - region))).sort(
    (a, b) => a - b,
  );
  const out: Buffer[] = [];
  let pos = 0;
  for (const p of at) {
    if (p < pos) continue;
    out.push(data.subarray(pos, p));
    const fresh = Buffer.from(Array.from({ length: region }, () => Math.floor(rnd() * 256)));
    const op = Math.floor(rnd() * 3);
    if (op === 0) {
      out.push(fresh);
      pos = p + region;
    } else if (op === 1) {
      out.push(fresh);
      pos = p;
    } else {
      pos = p + region;
    }
  }
  out.push(data.subarray(pos));
  return Buffer.concat(out);
}

for (const [name, data] of [
  ['source-like text', sourceLike(SIZE, 1)],
  ['binary (float32 walk)', binaryBlob(SIZE, 2)],
] as const) {
  const edited = edit(data, 3);
  console.log(`\n${name}, ${SIZE / MIB} MiB, 1% edited in 4 KiB regions`);
  console.log(
    '| min/avg/max KiB | re-upload % | chunks/MiB | chunking MB/s | zstd-3 ratio per chunk |',
  );
  console.log('|---|---|---|---|---|');
  for (const avgK of [16, 32, 64, 128]) {
    const params = { min: avgK * 256, avg: avgK * 1024, max: avgK * 4096 };
    chunkBuffer(data.subarray(0, 4 * MIB), params);
    let best = 0;
    let chunks: Buffer[] = [];
    for (let rep = 0; rep < 3; rep++) {
      const t = performance.now();
      chunks = chunkBuffer(data, params);
      best = Math.max(best, data.length / 1e6 / ((performance.now() - t) / 1000));
    }
    const known = new Set(chunks.map((c) => sha256Hex(c)));
    let fresh = 0;
    for (const c of chunkBuffer(edited, params)) if (!known.has(sha256Hex(c))) fresh += c.length;
    let stored = 0;
    for (const c of chunks) stored += zstd3.encodeSync(c).length;
    const row = [
      `${avgK / 4}/${avgK}/${avgK * 4}`,
      ((100 * fresh) / edited.length).toFixed(2),
      (chunks.length / (SIZE / MIB)).toFixed(1),
      best.toFixed(0),
      (data.length / stored).toFixed(2),
    ];
    console.log(`| ${row.join(' | ')} |`);
  }
}
