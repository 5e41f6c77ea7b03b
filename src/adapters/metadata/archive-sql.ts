import type { ArchiveFormat, Digest } from '../../core/types.js';
import type { ArchiveRecord } from '../../ports/metadata-store.js';
import type { SqlClient } from './sql-client.js';

/**
 * Patches one archive row; true when the row exists. 'ready' is final: a
 * stale worker (re-queued while the first still ran) must not turn a finished
 * archive back into building or failed, so such a patch leaves the row as is.
 * A second 'ready' is applied: it describes the object just rewritten.
 */
export async function updateArchiveSql(
  sql: SqlClient,
  tenant: string,
  versionId: Digest,
  format: ArchiveFormat,
  patch: Partial<Pick<ArchiveRecord, 'state' | 'size' | 'sha256' | 'error'>>,
): Promise<boolean> {
  const sets = ['updated_at = now()'];
  const params: unknown[] = [tenant, versionId, format];
  for (const column of ['state', 'size', 'sha256', 'error'] as const) {
    if (patch[column] === undefined) continue;
    params.push(patch[column]);
    sets.push(`${column} = $${params.length}`);
  }
  const leavesReady = patch.state !== undefined && patch.state !== 'ready';
  const r = await sql.query<{ found: boolean }>(
    `WITH u AS (
       UPDATE archives SET ${sets.join(', ')}
        WHERE tenant_id = $1 AND version_id = $2 AND format = $3
          ${leavesReady ? "AND state <> 'ready'" : ''}
       RETURNING 1)
     SELECT EXISTS (SELECT 1 FROM u) OR EXISTS (SELECT 1 FROM archives
       WHERE tenant_id = $1 AND version_id = $2 AND format = $3) AS found`,
    params,
  );
  return r.rows[0]?.found === true;
}
