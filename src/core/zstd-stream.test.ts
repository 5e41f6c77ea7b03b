import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, type Transform } from 'node:stream';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { TroveError } from '../errors.js';
import { mutate } from '../testing/core-arbitraries.js';
import { zstd } from './zstd-frame.js';
import { createZstdCompressStream, createZstdDecompressStream } from './zstd-stream.js';

const hasZstd = spawnSync('zstd', ['--version']).status === 0;
const tmp = mkdtempSync(join(tmpdir(), 'trove-zst-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function run(t: Transform, slices: Buffer[]): Promise<Buffer> {
  const out: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    t.on('data', (b: Buffer) => out.push(b));
    t.on('end', resolve);
    t.on('error', reject);
  });
  Readable.from(slices, { objectMode: false }).pipe(t);
  await done;
  return Buffer.concat(out);
}

function slice(b: Buffer, cuts: number[]): Buffer[] {
  const points = [0, ...cuts.map((c) => c % (b.length + 1)).sort((x, y) => x - y), b.length];
  const out: Buffer[] = [];
  for (let i = 1; i < points.length; i++)
    if (points[i]! > points[i - 1]!) out.push(b.subarray(points[i - 1], points[i]));
  return out;
}

const sourceText = Buffer.from(
  Array.from(
    { length: 40_000 },
    (_, i) => `const v${i} = compute(${i % 97}, "value-${i % 13}");\n`,
  ).join(''),
);

describe('zstd frame streams', () => {
  it('round-trips any input with any slicing (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 5000 }),
        fc.integer({ min: 1, max: 2000 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        async (bytes, frameSize, cutsIn, cutsOut) => {
          const input = Buffer.from(bytes);
          const z = await run(createZstdCompressStream({ frameSize }), slice(input, cutsIn));
          const back = await run(createZstdDecompressStream(), slice(z, cutsOut));
          expect(back.equals(input)).toBe(true);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('writes independent frames of frameSize with content sizes', async () => {
    const z = await run(createZstdCompressStream({ frameSize: 1 << 20 }), [sourceText]);
    expect(z.length).toBeLessThan(sourceText.length / 4);
    const frames = Math.ceil(sourceText.length / (1 << 20));
    // Each frame decodes on its own with a one-shot decoder too.
    expect(new zstd.Decoder().decodeSync(z).equals(sourceText)).toBe(true);
    let count = 0;
    for (let i = 0; i + 4 <= z.length; i++) if (z.readUInt32LE(i) === 0xfd2fb528) count++;
    expect(count).toBeGreaterThanOrEqual(frames);
  });

  it.skipIf(!hasZstd)('interoperates with the zstd CLI both ways', async () => {
    const z = await run(createZstdCompressStream({ frameSize: 300_000 }), [sourceText]);
    writeFileSync(join(tmp, 'a.zst'), z);
    expect(
      execFileSync('zstd', ['-dc', join(tmp, 'a.zst')], { maxBuffer: 1 << 26 }).equals(sourceText),
    ).toBe(true);
    const empty = await run(createZstdCompressStream(), []);
    writeFileSync(join(tmp, 'e.zst'), empty);
    expect(execFileSync('zstd', ['-dc', join(tmp, 'e.zst')]).length).toBe(0);

    const big = Buffer.concat([sourceText, randomBytes(1 << 20), sourceText]);
    writeFileSync(join(tmp, 'b.bin'), big);
    for (const args of [['-c'], ['-c', '--no-content-size'], ['-c', '--check', '-6']]) {
      const cli = execFileSync('zstd', [...args, join(tmp, 'b.bin')], { maxBuffer: 1 << 26 });
      expect(
        (await run(createZstdDecompressStream(), slice(cli, [1, 5000, 70_000]))).equals(big),
      ).toBe(true);
    }
    // Piped input (no content size) and a skippable frame in between.
    const piped = execFileSync('zstd', ['-c'], { input: sourceText, maxBuffer: 1 << 26 });
    const skippable = Buffer.concat([
      Buffer.from([0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0]),
      Buffer.from('abc'),
    ]);
    const both = Buffer.concat([piped, skippable, piped]);
    expect(
      (await run(createZstdDecompressStream(), [both])).equals(
        Buffer.concat([sourceText, sourceText]),
      ),
    ).toBe(true);
  });

  it('rejects truncated, corrupt and non-zstd input with TroveError', async () => {
    const z = await run(createZstdCompressStream({ frameSize: 20_000 }), [
      sourceText.subarray(0, 50_000),
    ]);
    await expect(run(createZstdDecompressStream(), [z.subarray(0, z.length - 1)])).rejects.toThrow(
      /ends inside a frame/,
    );
    await expect(
      run(createZstdDecompressStream(), [Buffer.from('not zstd at all')]),
    ).rejects.toThrow(TroveError);
  });

  it('bounds frame sizes before decoding', async () => {
    // A frame header declaring RLE blocks of 128 KiB each: tiny input, huge output.
    const header = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x58]);
    const bh = ((128 * 1024) << 3) | (1 << 1); // size 128 KiB, type RLE, not last
    const rle = Buffer.from([bh & 0xff, (bh >> 8) & 0xff, bh >> 16, 0x41]);
    const blocks = Array.from({ length: 2100 }, () => rle);
    const last = Buffer.from(rle);
    last[0]! |= 1;
    const bomb = Buffer.concat([header, ...blocks, last]);
    await expect(run(createZstdDecompressStream(), [bomb])).rejects.toThrow(/more than/);
  });

  it('never throws anything but TroveError on mutated or truncated streams (fuzz)', async () => {
    const z = await run(createZstdCompressStream({ frameSize: 3000 }), [
      sourceText.subarray(0, 9000),
    ]);
    const attempt = async (b: Buffer) => {
      try {
        await run(createZstdDecompressStream(), slice(b, [b.length >> 1]));
      } catch (err) {
        if (!(err instanceof TroveError)) throw err;
      }
    };
    for (let i = 0; i < z.length; i += 3) await attempt(z.subarray(0, i));
    for (let seed = 1; seed < 400; seed++) await attempt(mutate(z, seed));
    for (let seed = 1; seed < 100; seed++) await attempt(randomBytes(seed * 7));
  });
});
