import type { ArchiveFormat, Digest } from '../../core/types.js';
import type { ArchivePatch, ArchiveRecord } from '../../ports/metadata-store.js';
import type { ArchiveRow } from './rows.js';
import { toArchive } from './rows.js';
import type { SqlClient } from './sql-client.js';

/**
 * The states a patch may leave, by target state. 'ready' is final for a
 * materialize job: a stale worker (re-queued while the first still ran) must
 * not turn a finished archive back into building or failed. A second 'ready'
 * is applied: it describes the object just rewritten. Retention's states
 * only yield to 'building': a rebuild writes the object after that update,
 * while a stale job's late 'ready' or 'failed' would claim (or hide) an
 * object retention deleted or is about to delete.
 */
function stateGuard(state: ArchivePatch['state']): string {
  if (state === undefined) return '';
  if (state === 'building') return "AND state <> 'ready'";
  if (state === 'ready') return "AND state NOT IN ('evicted', 'deleted')";
  return "AND state NOT IN ('ready', 'evicted', 'deleted')";
}

/** Patches one archive row; true when the row exists (whether or not the guard let the patch through). */
export async function updateArchiveSql(
  sql: SqlClient,
  tenant: string,
  versionId: Digest,
  format: ArchiveFormat,
  patch: ArchivePatch,
): Promise<boolean> {
  const sets = ['updated_at = now()'];
  const params: unknown[] = [tenant, versionId, format];
  for (const column of ['state', 'size', 'sha256', 'error'] as const) {
    if (patch[column] === undefined) continue;
    params.push(patch[column]);
    sets.push(`${column} = $${params.length}`);
  }
  const r = await sql.query<{ found: boolean }>(
    `WITH u AS (
       UPDATE archives SET ${sets.join(', ')}
        WHERE tenant_id = $1 AND version_id = $2 AND format = $3 ${stateGuard(patch.state)}
       RETURNING 1)
     SELECT EXISTS (SELECT 1 FROM u) OR EXISTS (SELECT 1 FROM archives
       WHERE tenant_id = $1 AND version_id = $2 AND format = $3) AS found`,
    params,
  );
  return r.rows[0]?.found === true;
}

/**
 * True for an archive row `a` whose version is among the newest $keep history
 * entries of some storage (seq runs 1..entries, so the newest N have
 * seq > entries - N). Uses history_version_idx.
 */
const KEPT = `EXISTS (
  SELECT 1 FROM history h
    JOIN storages s ON s.tenant_id = h.tenant_id AND s.name = h.storage
   WHERE h.tenant_id = a.tenant_id AND h.version_id = a.version_id
     AND h.seq > s.entries - $1)`;

/**
 * Ready archives, and queued or failed ones not worth building any more. A
 * building one is left to finish (its worker holds no lock we could wait
 * on); the next pass evicts it once ready.
 */
const EVICTABLE = "('ready', 'pending', 'failed')";

/** See MetadataStore.isArchiveRetained. */
export async function isArchiveRetainedSql(
  sql: SqlClient,
  tenant: string,
  versionId: Digest,
  keep: number,
): Promise<boolean> {
  if (keep === 0) return true;
  const r = await sql.query<{ kept: boolean }>(
    `SELECT ${KEPT} AS kept FROM (SELECT $2::text AS tenant_id, $3::text AS version_id) a`,
    [keep, tenant, versionId],
  );
  return r.rows[0]?.kept === true;
}

/** See MetadataStore.evictSupersededArchives. */
export async function evictSupersededSql(
  sql: SqlClient,
  keep: number,
  limit: number,
): Promise<ArchiveRecord[]> {
  const candidates = await sql.query<{ tenant_id: string; version_id: string }>(
    `SELECT DISTINCT a.tenant_id, a.version_id FROM archives a
      WHERE a.state IN ${EVICTABLE} AND NOT ${KEPT}
      ORDER BY a.tenant_id, a.version_id LIMIT $2`,
    [keep, limit],
  );
  const evicted: ArchiveRecord[] = [];
  // One short transaction per version: the lock below is the only one held
  // while the check runs, so workers evicting the same versions cannot deadlock.
  for (const c of candidates.rows) {
    const rows = await sql.transaction(async (tx) => {
      // A history insert naming this version takes FOR KEY SHARE on its row
      // (the foreign key), which conflicts with FOR UPDATE: a push making it
      // head again either committed before the re-check below (which, as a
      // new statement, sees it) or waits until the eviction is visible, and
      // then the push's rebuild request finds the archive not ready.
      await tx.query('SELECT 1 FROM versions WHERE tenant_id = $1 AND id = $2 FOR UPDATE', [
        c.tenant_id,
        c.version_id,
      ]);
      const r = await tx.query<ArchiveRow>(
        `UPDATE archives a SET state = 'evicted', evicted_at = now(), updated_at = now()
          WHERE a.tenant_id = $2 AND a.version_id = $3 AND a.state IN ${EVICTABLE}
            AND NOT ${KEPT}
          RETURNING a.*`,
        [keep, c.tenant_id, c.version_id],
      );
      return r.rows;
    });
    evicted.push(...rows.map(toArchive));
  }
  return evicted;
}

/** See MetadataStore.purgeEvictedArchives. */
export async function purgeEvictedSql(
  sql: SqlClient,
  graceSeconds: number,
  limit: number,
  deleteObjects: (archives: ArchiveRecord[]) => Promise<void>,
): Promise<ArchiveRecord[]> {
  return sql.transaction(async (tx) => {
    const r = await tx.query<ArchiveRow>(
      `SELECT * FROM archives
        WHERE state = 'evicted' AND evicted_at <= now() - make_interval(secs => $1)
        ORDER BY evicted_at LIMIT $2
        FOR UPDATE SKIP LOCKED`,
      [graceSeconds, limit],
    );
    const archives = r.rows.map(toArchive);
    if (archives.length === 0) return [];
    await deleteObjects(archives);
    await tx.query(
      `UPDATE archives SET state = 'deleted', updated_at = now()
        WHERE (tenant_id, version_id, format) IN (
          SELECT * FROM unnest($1::text[], $2::text[], $3::text[]))
          AND state = 'evicted'`,
      [
        archives.map((a) => a.tenant),
        archives.map((a) => a.versionId),
        archives.map((a) => a.format),
      ],
    );
    return archives.map((a) => ({ ...a, state: 'deleted' as const }));
  });
}
