import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTree, call, type Harness, makeHarness } from '../testing/http-harness.js';

let h: Harness;
beforeAll(async () => {
  h = await makeHarness();
});
afterAll(async () => {
  await h?.close();
});

describe('a full database disk', () => {
  it('answers 503 storage_full saying what to do, not 500 internal', async () => {
    // What PostgreSQL raises when it cannot extend a file: SQLSTATE 53100 disk_full.
    await h.sql.query(`CREATE FUNCTION trove_test_disk_full() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = '53100'; END $$`);
    await h.sql.query(`CREATE TRIGGER trove_test_disk_full BEFORE INSERT ON upload_sessions
      FOR EACH ROW EXECUTE FUNCTION trove_test_disk_full()`);
    const tree = buildTree({ 'a.txt': 'a\n' });
    const body = { version: tree.id, manifestSize: tree.manifest.length, parent: null };
    try {
      const start = await call(h.app, 'POST', '/v1/storages/full/uploads', body);
      expect(start.status).toBe(503);
      expect(start.json.error.code).toBe('storage_full');
      expect(start.json.error.message).toMatch(/database disk is full: free space or grow/);
      expect(start.json.error.message).not.toMatch(/could not extend/);
    } finally {
      await h.sql.query('DROP TRIGGER trove_test_disk_full ON upload_sessions');
    }
    // Space freed: the same request goes through.
    expect((await call(h.app, 'POST', '/v1/storages/full/uploads', body)).status).toBe(201);
  });
});
