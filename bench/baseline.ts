import { createReadStream, statSync } from 'node:fs';
import { type IncomingMessage, request } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { check, measure } from './proc.js';

/**
 * The design trove is measured against: one tar.gz of the whole tree per
 * version, one PUT to store it, one GET piped into `tar -xzf` to restore it.
 * No dedup, no cleverness — the floor for request count, the ceiling for bytes.
 */

/** One baseline operation. */
export interface BaselineResult {
  ms: number;
  bytes: number;
  requests: number;
  /** Peak RSS of tar (GNU time), null when unmeasurable. */
  rssKiB: number | null;
  /** CPU time of tar and its gzip child (GNU time), null when unmeasurable. */
  cpuMs: number | null;
}

function put(url: string, file: string): Promise<void> {
  const size = statSync(file).size;
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'PUT', headers: { 'content-length': size } }, (res) => {
      res.resume();
      res.on('end', () =>
        res.statusCode === 201 ? resolve() : reject(new Error(`PUT ${url}: ${res.statusCode}`)),
      );
    });
    req.on('error', reject);
    pipeline(createReadStream(file, { highWaterMark: 1024 * 1024 }), req).catch(reject);
  });
}

function get(url: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET' }, (res) => {
      if (res.statusCode !== 200) reject(new Error(`GET ${url}: ${res.statusCode}`));
      else resolve(res);
    });
    req.on('error', reject);
    req.end();
  });
}

/** tar -czf the tree into `archive`, then PUT it to `url`. */
export async function baselinePush(
  tree: string,
  archive: string,
  url: string,
): Promise<BaselineResult> {
  const start = performance.now();
  const tar = check('tar -czf', await measure('tar', ['-czf', archive, '-C', tree, '.']));
  await put(url, archive);
  return {
    ms: performance.now() - start,
    bytes: statSync(archive).size,
    requests: 1,
    rssKiB: tar.rssKiB,
    cpuMs: tar.cpuMs,
  };
}

/** GET `url` streamed into `tar -xzf` in `dest` (an existing empty directory). */
export async function baselinePull(url: string, dest: string): Promise<BaselineResult> {
  const start = performance.now();
  const res = await get(url);
  const bytes = Number(res.headers['content-length'] ?? 0);
  const tar = check('tar -xzf -', await measure('tar', ['-xzf', '-', '-C', dest], { stdin: res }));
  return {
    ms: performance.now() - start,
    bytes,
    requests: 1,
    rssKiB: tar.rssKiB,
    cpuMs: tar.cpuMs,
  };
}

/** `tar -xzf` (or `--zstd -xf`) of a local archive file into `dest` (an existing empty directory). */
export async function localExtract(
  archive: string,
  dest: string,
  format: 'tar.gz' | 'tar.zst' = archive.endsWith('.zst') ? 'tar.zst' : 'tar.gz',
): Promise<BaselineResult> {
  const args = format === 'tar.zst' ? ['--zstd', '-xf'] : ['-xzf'];
  const m = check('tar -x', await measure('tar', [...args, archive, '-C', dest]));
  return { ms: m.ms, bytes: statSync(archive).size, requests: 0, rssKiB: m.rssKiB, cpuMs: m.cpuMs };
}
