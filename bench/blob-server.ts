import { createReadStream, createWriteStream, mkdirSync, renameSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';

/**
 * The baseline's object store: the simplest thing that can hold one archive
 * per version — PUT writes the body to disk, GET streams it back. Run as its
 * own process (`node blob-server.js DIR`) so it competes for the CPU like
 * trove's server does. Prints `{"port":N}` on stdout once listening.
 */

const dir = process.argv[2];
if (dir === undefined) throw new Error('usage: blob-server.js DIR');
mkdirSync(dir, { recursive: true });

// Flat names only: the bench is the only client, but stay out of parent dirs anyway.
const keyPath = (url: string | undefined): string | null => {
  const key = decodeURIComponent((url ?? '/').slice(1));
  return /^[A-Za-z0-9._-]+$/.test(key) ? join(dir, key) : null;
};

const server = createServer((req, res) => {
  const path = keyPath(req.url);
  if (path === null) {
    res.writeHead(400).end();
    return;
  }
  if (req.method === 'PUT') {
    const tmp = `${path}.part`;
    pipeline(req, createWriteStream(tmp))
      .then(() => {
        renameSync(tmp, path);
        res.writeHead(201).end();
      })
      .catch(() => res.writeHead(500).end());
  } else if (req.method === 'GET') {
    let size: number;
    try {
      size = statSync(path).size;
    } catch {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-length': size, 'content-type': 'application/gzip' });
    pipeline(createReadStream(path, { highWaterMark: 1024 * 1024 }), res).catch(() =>
      res.destroy(),
    );
  } else {
    res.writeHead(405).end();
  }
});

server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  if (addr !== null && typeof addr === 'object') {
    process.stdout.write(`${JSON.stringify({ port: addr.port })}\n`);
  }
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
