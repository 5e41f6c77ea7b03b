import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Digest } from '../core/types.js';
import { manifestKey, packKey } from '../services/keys.js';
import { materializeArchive } from '../services/materialize.js';
import {
  buildPack,
  buildTree,
  call,
  type Harness,
  makeHarness,
  push,
  type Reply,
  sendPresigned,
} from '../testing/http-harness.js';

// Invariants 1 and 10 against a hostile or buggy client: no request sequence
// deletes or poisons a pack that committed versions use, and a pack lost
// behind the server's back is detected, named, and healed by the next push.

let h: Harness;
beforeAll(async () => {
  h = await makeHarness();
});
afterAll(async () => {
  await h?.close();
});

const tree = (tag: string) =>
  buildTree({
    'a.bin': randomBytes(150_000),
    'b.txt': `${tag}\n`.repeat(2000),
    'dir/c.txt': `c ${tag}\n`,
  });

/** The packs a version's chunks live in, as any reader learns them from a plan. */
async function packsOf(storage: string, t: ReturnType<typeof tree>): Promise<Digest[]> {
  const plan = await call(h.app, 'POST', `/v1/storages/${storage}/versions/${t.id}/plan`, {
    digests: [...t.chunks.keys()],
  });
  expect(plan.status).toBe(200);
  return plan.json.packs.map((p: { pack: Digest }) => p.pack);
}

/** Fetches every chunk of a version through the plan and checks it byte for byte. */
async function restorable(storage: string, t: ReturnType<typeof tree>): Promise<Reply | true> {
  const plan = await call(h.app, 'POST', `/v1/storages/${storage}/versions/${t.id}/plan`, {
    digests: [...t.chunks.keys()],
  });
  if (plan.status !== 200) return plan;
  for (const p of plan.json.packs) {
    const res = await sendPresigned(h.app, p.request);
    if (res.status !== 200) return { status: res.status, json: await res.text() };
    expect(Buffer.from(await res.arrayBuffer()).length).toBeGreaterThan(0);
  }
  // The worker's read path: every chunk streamed from its pack into an archive.
  const format = h.config.archiveFormats[0] ?? 'tar.gz';
  await materializeArchive(h, { tenant: 'default', versionId: t.id, format });
  const archive = (await h.metadata.listArchives('default', t.id)).find((a) => a.format === format);
  expect(archive?.state).toBe('ready');
  return true;
}

async function openSession(storage: string): Promise<string> {
  const other = tree(`probe-${randomBytes(4).toString('hex')}`);
  const start = await call(h.app, 'POST', `/v1/storages/${storage}/uploads`, {
    version: other.id,
    manifestSize: other.manifest.length,
    parent: null,
    onConflict: 'force',
    message: '',
  });
  expect(start.status).toBe(201);
  return start.json.session;
}

async function commitUntilDone(session: string): Promise<Reply> {
  let res = await call(h.app, 'POST', `/v1/uploads/${session}/commit`);
  while (res.status === 202) res = await call(h.app, 'POST', `/v1/uploads/${session}/commit`);
  return res;
}

describe('a session never deletes or re-verifies a shared pack', () => {
  it('refuses a live pack declared with another size, and its bytes survive the commit', async () => {
    const victim = tree('victim');
    expect((await push(h.app, 'victim', victim)).commit?.status).toBe(200);
    const [pack] = await packsOf('victim', victim);
    const stored = await h.blobs.stat(packKey('default', pack as Digest));
    const session = await openSession('attacker');
    const declared = await call(h.app, 'POST', `/v1/uploads/${session}/packs`, {
      packs: [{ id: pack, size: (stored?.size ?? 0) + 1 }],
    });
    expect(declared.status).toBe(422);
    expect(declared.json.error.code).toBe('size_mismatch');
    await commitUntilDone(session);
    expect(await h.blobs.stat(packKey('default', pack as Digest))).toEqual(stored);
    expect(await restorable('victim', victim)).toBe(true);
  });

  it('never presigns a live pack: it is reported present, nothing to upload', async () => {
    const victim = tree('present');
    await push(h.app, 'present', victim);
    const [pack] = await packsOf('present', victim);
    const size = (await h.blobs.stat(packKey('default', pack as Digest)))?.size;
    const session = await openSession('attacker2');
    const declared = await call(h.app, 'POST', `/v1/uploads/${session}/packs`, {
      packs: [{ id: pack, size }],
    });
    expect(declared.status).toBe(200);
    expect(declared.json).toEqual({ uploads: [], present: [pack] });
  });

  it('keeps a pack declared with a wrong size before the victim committed it', async () => {
    // The attacker declares the pack while it is still pending for everyone,
    // the victim then commits it, then the attacker commits: the failure must
    // not touch the object the victim's version now uses.
    const victim = tree('race');
    const pack = buildPack([...victim.chunks.values()]);
    const session = await openSession('racer');
    const declared = await call(h.app, 'POST', `/v1/uploads/${session}/packs`, {
      packs: [{ id: pack.id, size: pack.bytes.length + 1 }],
    });
    expect(declared.status).toBe(200);
    expect((await push(h.app, 'race', victim)).commit?.status).toBe(200);
    const failed = await commitUntilDone(session);
    expect(failed.status).toBe(422);
    expect(failed.json.error.code).toBe('size_mismatch');
    expect((await h.blobs.stat(packKey('default', pack.id)))?.size).toBe(pack.bytes.length);
    expect(await restorable('race', victim)).toBe(true);
  });

  it('deletes garbage under a pack key no row knows, so an honest upload can follow', async () => {
    const t = tree('garbage');
    const pack = buildPack([...t.chunks.values()]);
    const session = await openSession('garbage');
    await call(h.app, 'POST', `/v1/uploads/${session}/packs`, {
      packs: [{ id: pack.id, size: pack.bytes.length }],
    });
    // Bytes that do not hash to the key (one flipped in the first chunk),
    // written behind the presigned URL's checks.
    const junk = Buffer.from(pack.bytes);
    junk[0] = (junk[0] ?? 0) ^ 0xff;
    await h.driver.put(packKey('default', pack.id), Readable.from([junk]));
    const failed = await commitUntilDone(session);
    expect(failed.status).toBe(422);
    expect(failed.json.error.code).toBe('digest_mismatch');
    expect(await h.blobs.stat(packKey('default', pack.id))).toBeNull();
    expect((await push(h.app, 'garbage', t)).commit?.status).toBe(200);
    expect(await restorable('garbage', t)).toBe(true);
  });
});

describe('a pack lost behind the server is detected and healed', () => {
  it('names the pack, stops vouching for its chunks, and the next push repairs every version using it', async () => {
    const shared = randomBytes(200_000);
    const first = buildTree({ 'shared.bin': shared, 'one.txt': 'one\n' });
    const second = buildTree({ 'shared.bin': shared, 'two.txt': 'two\n' });
    expect((await push(h.app, 'lost', first)).commit?.status).toBe(200);
    expect((await push(h.app, 'lost', second, { parent: first.id })).commit?.status).toBe(200);
    const packs = await packsOf('lost', first);
    expect(packs).toHaveLength(1);
    const pack = packs[0] as Digest;
    await h.driver.delete([packKey('default', pack)]);

    // The worker finds it gone, names it, and records it.
    await expect(
      materializeArchive(h, {
        tenant: 'default',
        versionId: first.id,
        format: h.config.archiveFormats[0] ?? 'tar.gz',
      }),
    ).rejects.toMatchObject({ code: 'pack_missing', details: { packs: [pack] } });
    // From then on a plan names it instead of handing out a URL that answers 404.
    const plan = await call(h.app, 'POST', `/v1/storages/lost/versions/${first.id}/plan`, {
      digests: [...first.chunks.keys()],
    });
    expect(plan.status).toBe(410);
    expect(plan.json.error).toMatchObject({ code: 'pack_missing', details: { packs: [pack] } });

    // The index no longer vouches for its chunks: a push is told to send them.
    const session = await openSession('lost-probe');
    const missing = await call(h.app, 'POST', `/v1/uploads/${session}/missing`, {
      digests: [...first.chunks.keys()],
    });
    expect(missing.json.missing.sort()).toEqual([...first.chunks.keys()].sort());

    // Pushing the same tree again is a repair: a session opens, without a
    // manifest URL (the server holds the manifest), and the chunks go up.
    const again = await push(h.app, 'lost', first, { parent: second.id });
    expect(again.start.status).toBe(201);
    expect(again.start.json.manifestUpload).toBeUndefined();
    expect(again.commit?.status).toBe(200);
    expect(again.commit?.json).toMatchObject({ created: false });
    expect(await restorable('lost', first)).toBe(true);
    // The other version sharing the lost chunks restores too.
    expect(await restorable('lost', second)).toBe(true);
    // And a plain push of an unchanged version is version-level dedup again.
    const dedup = await push(h.app, 'lost', first, { parent: first.id });
    expect(dedup.start.json.status).toBe('exists');
  });

  it('a manifest lost behind the server is uploaded again by the next push of the tree', async () => {
    const t = tree('manifest');
    expect((await push(h.app, 'lost-manifest', t)).commit?.status).toBe(200);
    expect((await push(h.app, 'lost-manifest', t, { parent: t.id })).start.json.status).toBe(
      'exists',
    );
    await h.driver.delete([manifestKey('default', t.id)]);
    const again = await push(h.app, 'lost-manifest', t, { parent: t.id });
    expect(again.start.status).toBe(201);
    expect(again.start.json.manifestUpload).toBeDefined();
    expect(again.commit?.json).toMatchObject({ status: 'committed', created: false });
    expect((await h.blobs.stat(manifestKey('default', t.id)))?.size).toBe(t.manifest.length);
    expect(await restorable('lost-manifest', t)).toBe(true);
  });

  it('confirms a reported pack with the object store and never trusts the report', async () => {
    const t = tree('report');
    await push(h.app, 'report', t);
    const [pack] = await packsOf('report', t);
    const url = `/v1/storages/report/versions/${t.id}/missing-packs`;
    const present = await call(h.app, 'POST', url, { packs: [pack] });
    expect(present).toEqual({ status: 200, json: { missing: [] } });
    expect(await restorable('report', t)).toBe(true);
    const unknown = await call(h.app, 'POST', url, { packs: ['f'.repeat(64)] });
    expect(unknown.json.missing).toEqual([]);

    await h.driver.delete([packKey('default', pack as Digest)]);
    const gone = await call(h.app, 'POST', url, { packs: [pack] });
    expect(gone).toEqual({ status: 200, json: { missing: [pack] } });
    const bad = await call(h.app, 'POST', url, { packs: ['nope'] });
    expect(bad.status).toBe(400);
  });
});
