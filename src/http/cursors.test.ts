import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTree, call, type Harness, makeHarness, push } from '../testing/http-harness.js';

let h: Harness;
beforeAll(async () => {
  h = await makeHarness();
  for (const name of ['c-a', 'c-b', 'c-c']) {
    for (let i = 0; i < 3; i++)
      await push(h.app, name, buildTree({ 'v.txt': `${name} ${i}\n` }), {
        parent: i === 0 ? null : buildTree({ 'v.txt': `${name} ${i - 1}\n` }).id,
      });
  }
});
afterAll(async () => {
  await h?.close();
});

const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64url');

/** Cursors this server never issued: not base64url, base64url of junk, non-canonical. */
const garbage = [
  '!!!',
  'not a cursor',
  b64(Buffer.from([0xff, 0xfe, 0x00, 0x80])),
  b64('zzzz-no-such-thing'),
  b64('\u0000'),
  b64('storages:'),
  b64('storages:../x'),
  b64('history:0'),
  b64('history:-1'),
  b64('history:1e3'),
  `${b64('history:1')}A`,
];

async function expectRefused(path: string, cursor: string): Promise<void> {
  const r = await call(h.app, 'GET', `${path}?cursor=${encodeURIComponent(cursor)}`);
  expect([r.status, r.json?.error?.code], `cursor ${JSON.stringify(cursor)}`).toEqual([
    400,
    'invalid_request',
  ]);
}

describe('page cursors', () => {
  it('GET /v1/storages pages with its own cursors and refuses any other with 400', async () => {
    const first = await call(h.app, 'GET', '/v1/storages?limit=2');
    expect(first.json.storages.map((s: { name: string }) => s.name)).toEqual(['c-a', 'c-b']);
    const next = await call(h.app, 'GET', `/v1/storages?limit=2&cursor=${first.json.nextCursor}`);
    expect(next.status).toBe(200);
    expect(next.json.storages.map((s: { name: string }) => s.name)).toEqual(['c-c']);
    const history = await call(h.app, 'GET', '/v1/storages/c-a/versions?limit=1');
    for (const cursor of [...garbage, history.json.nextCursor])
      await expectRefused('/v1/storages', cursor);
  });

  it('GET /v1/storages/{storage}/versions pages with its own cursors and refuses any other with 400', async () => {
    const first = await call(h.app, 'GET', '/v1/storages/c-b/versions?limit=2');
    expect(first.json.versions).toHaveLength(2);
    const next = await call(
      h.app,
      'GET',
      `/v1/storages/c-b/versions?limit=2&cursor=${first.json.nextCursor}`,
    );
    expect(next.status).toBe(200);
    expect(next.json.versions).toHaveLength(1);
    const storages = await call(h.app, 'GET', '/v1/storages?limit=1');
    for (const cursor of [...garbage, storages.json.nextCursor])
      await expectRefused('/v1/storages/c-b/versions', cursor);
  });
});
