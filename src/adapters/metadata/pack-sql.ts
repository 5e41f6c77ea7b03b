import type { Digest } from '../../core/types.js';
import type { PackRecord } from '../../ports/metadata-store.js';
import { lockOpenSession } from './session-sql.js';
import type { SqlClient } from './sql-client.js';

interface PackRow {
  id: string;
  size: number | string;
  state: PackRecord['state'];
}

/** Pack rows of a tenant among `ids`; absent ones omitted. */
export async function getPacksSql(
  sql: SqlClient,
  tenant: string,
  ids: readonly Digest[],
): Promise<PackRecord[]> {
  if (ids.length === 0) return [];
  const r = await sql.query<PackRow>(
    'SELECT id, size, state FROM packs WHERE tenant_id = $1 AND id = ANY($2::text[]) ORDER BY id',
    [tenant, ids],
  );
  return r.rows.map((row) => ({ id: row.id, size: Number(row.size), state: row.state }));
}

/**
 * Marks packs missing (live or condemned -> missing) and returns the ids that
 * changed. The caller has looked at the object store first: this records a
 * fact the server checked, never a client's claim.
 */
export async function markPacksMissingSql(
  sql: SqlClient,
  tenant: string,
  ids: readonly Digest[],
): Promise<Digest[]> {
  if (ids.length === 0) return [];
  const r = await sql.query<{ id: string }>(
    `UPDATE packs SET state = 'missing', missing_at = now()
      WHERE tenant_id = $1 AND id = ANY($2::text[]) AND state <> 'missing'
      RETURNING id`,
    [tenant, ids],
  );
  return r.rows.map((row) => row.id).sort();
}

/**
 * Packs a version references that are missing and still hold index rows
 * (a missing pack whose every chunk moved to a re-uploaded pack no longer
 * damages anything).
 */
export async function listMissingVersionPacksSql(
  sql: SqlClient,
  tenant: string,
  versionId: Digest,
): Promise<Digest[]> {
  const r = await sql.query<{ pack_id: string }>(
    `SELECT vp.pack_id FROM version_packs vp
       JOIN packs p ON p.tenant_id = vp.tenant_id AND p.id = vp.pack_id
      WHERE vp.tenant_id = $1 AND vp.version_id = $2 AND p.state = 'missing'
        AND EXISTS (SELECT 1 FROM chunks c WHERE c.tenant_id = p.tenant_id AND c.pack_id = p.id)
      ORDER BY vp.pack_id`,
    [tenant, versionId],
  );
  return r.rows.map((row) => row.pack_id);
}

/**
 * A session declared a pack that is already live: it is immutable and was
 * verified when first recorded, so the session takes it as verified without
 * anyone reading (or deleting) its bytes again. False when the pack is not
 * live (then it must be verified like any upload).
 */
export async function adoptLivePackTx(
  tx: SqlClient,
  tenant: string,
  sessionId: string,
  packId: Digest,
): Promise<boolean> {
  await lockOpenSession(tx, tenant, sessionId);
  const live = await tx.query(
    `SELECT 1 FROM packs WHERE tenant_id = $1 AND id = $2 AND state = 'live' FOR SHARE`,
    [tenant, packId],
  );
  if (live.rows.length === 0) return false;
  await tx.query(
    `UPDATE session_packs SET state = 'verified'
      WHERE tenant_id = $1 AND session_id = $2 AND pack_id = $3`,
    [tenant, sessionId, packId],
  );
  return true;
}
