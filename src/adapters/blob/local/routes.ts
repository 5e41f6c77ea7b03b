import { Readable } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { type Context, Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { httpStatusOf, TroveError } from '../../../errors.js';
import { checkedBlobStore } from '../checked.js';
import { parseRangeHeader } from './http-range.js';
import type { LocalBlobStore } from './local-blob-store.js';

/** Pull-based, so a slow client slows the disk read instead of filling memory. */
function toWebStream(source: Readable): ReadableStream<Uint8Array> {
  const chunks = source[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const { value, done } = await chunks.next();
        if (done) controller.close();
        else controller.enqueue(value as Buffer);
      },
      async cancel() {
        // Ends the iterator, which destroys the file stream and closes the fd.
        await chunks.return?.();
      },
    },
    { highWaterMark: 1 },
  );
}

function errorResponse(c: Context, err: unknown): Response {
  const error =
    err instanceof TroveError
      ? err
      : new TroveError('internal', 'unexpected error serving a blob', undefined, { cause: err });
  return c.json(error.toJSON(), httpStatusOf(error.code) as ContentfulStatusCode);
}

/**
 * HTTP side of LocalBlobStore's signed URLs, mounted at the server root:
 * `PUT|GET|HEAD <pathPrefix>/<key>?X-Trove-...`. Bodies stream both ways;
 * nothing is buffered whole.
 */
export function localBlobRoutes(store: LocalBlobStore): Hono {
  const app = new Hono();
  const blobs = checkedBlobStore(store);
  const prefix = `${store.pathPrefix}/`;

  const keyOf = (c: Context): string => new URL(c.req.url).pathname.slice(prefix.length);
  const queryOf = (c: Context): URLSearchParams => new URL(c.req.url).searchParams;

  app.put(`${prefix}*`, async (c) => {
    try {
      const key = keyOf(c);
      const { size, sha256 } = store.verifySignedRequest('PUT', key, queryOf(c));
      const header = c.req.header('content-length');
      const declared = header !== undefined && /^\d+$/.test(header) ? Number(header) : null;
      // Refuse before reading a byte; the server drains or drops the unread body.
      if (declared !== size) {
        throw new TroveError('size_mismatch', `Content-Length must be exactly ${size}`, {
          expected: size,
          actual: declared,
        });
      }
      const raw = c.req.raw.body;
      const body = raw ? Readable.fromWeb(raw as NodeReadableStream) : Readable.from([]);
      const result = await blobs.put(key, body, { size, sha256 });
      return c.body(null, 200, { etag: `"${result.sha256}"` });
    } catch (err) {
      return errorResponse(c, err);
    }
  });

  // Hono answers HEAD through this GET route and drops the body, so HEAD must
  // not open a stream that nobody would ever close.
  app.get(`${prefix}*`, async (c) => {
    try {
      const key = keyOf(c);
      store.verifySignedRequest(c.req.method, key, queryOf(c));
      const st = await blobs.stat(key);
      if (st === null) throw new TroveError('blob_not_found', `no blob at key ${key}`, { key });
      const headers: Record<string, string> = {
        'accept-ranges': 'bytes',
        'content-type': 'application/octet-stream',
      };
      const range = parseRangeHeader(c.req.header('range'), st.size);
      if (range.kind === 'unsatisfiable') {
        const error = new TroveError('invalid_request', 'requested range not satisfiable', {
          size: st.size,
        });
        return c.json(error.toJSON(), 416, { ...headers, 'content-range': `bytes */${st.size}` });
      }
      let status: 200 | 206 = 200;
      let start = 0;
      let end = st.size;
      if (range.kind === 'partial') {
        status = 206;
        ({ start, end } = range);
        headers['content-range'] = `bytes ${start}-${end - 1}/${st.size}`;
      }
      headers['content-length'] = String(end - start);
      if (c.req.method === 'HEAD') return c.body(null, status, headers);
      // Always ranged: if the file changed since stat, Content-Length still holds.
      const stream = await blobs.get(key, { start, end });
      return c.body(toWebStream(stream), status, headers);
    } catch (err) {
      return errorResponse(c, err);
    }
  });

  return app;
}
