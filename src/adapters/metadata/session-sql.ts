import type { Digest, PackedChunk } from '../../core/types.js';
import type { CommitProgress } from '../../ports/metadata-store.js';
import { sessionNotFound } from './commit-sql.js';
import type { SqlClient } from './sql-client.js';

/** Session ids are UUIDs; anything else cannot exist (and must not reach a uuid cast). */
export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Write-order step "packs -> index" for one verified pack, inside the caller's transaction. */
export async function recordVerifiedPackTx(
  tx: SqlClient,
  tenant: string,
  sessionId: string,
  pack: { id: Digest; size: number },
  chunks: PackedChunk[],
): Promise<void> {
  // A pack listing a digest twice: the first occurrence is its location.
  const unique = new Map<string, PackedChunk>();
  for (const c of chunks) if (!unique.has(c.digest)) unique.set(c.digest, c);
  // Sorted: concurrent packs sharing chunks then lock index rows in the same
  // order, so on PostgreSQL they queue behind each other instead of deadlocking.
  const list = [...unique.values()].sort((a, b) => (a.digest < b.digest ? -1 : 1));

  await lockOpenSession(tx, tenant, sessionId);
  // Re-uploading a condemned or missing pack revives it (its bytes were just
  // verified); GC re-checks state before deleting.
  await tx.query(
    `INSERT INTO packs (tenant_id, id, size, chunk_count) VALUES ($1, $2, $3, $4)
     ON CONFLICT (tenant_id, id) DO UPDATE SET state = 'live', missing_at = NULL`,
    [tenant, pack.id, pack.size, chunks.length],
  );
  if (list.length > 0) {
    // The chunks that will move: their current pack is condemned or missing.
    const moved = await tx.query<{ pack_id: string }>(
      `SELECT DISTINCT c.pack_id FROM chunks c
         JOIN packs p ON p.tenant_id = c.tenant_id AND p.id = c.pack_id
        WHERE c.tenant_id = $1 AND c.digest = ANY($2::text[]) AND c.pack_id <> $3
          AND p.state IN ('condemned', 'missing')`,
      [tenant, list.map((c) => c.digest), pack.id],
    );
    // First location wins, unless it sits in a condemned or missing pack: then
    // the new copy takes over.
    await tx.query(
      `INSERT INTO chunks AS c (tenant_id, digest, pack_id, "offset", stored_size, raw_size, codec)
       SELECT $1, x.digest, $2, x.off, x.stored, x.raw, x.codec
         FROM unnest($3::text[], $4::bigint[], $5::bigint[], $6::bigint[], $7::text[])
           AS x(digest, off, stored, raw, codec)
       ON CONFLICT (tenant_id, digest) DO UPDATE
         SET pack_id = EXCLUDED.pack_id, "offset" = EXCLUDED."offset",
             stored_size = EXCLUDED.stored_size, raw_size = EXCLUDED.raw_size,
             codec = EXCLUDED.codec
       WHERE EXISTS (SELECT 1 FROM packs p WHERE p.tenant_id = c.tenant_id
                       AND p.id = c.pack_id AND p.state IN ('condemned', 'missing'))`,
      [
        tenant,
        pack.id,
        list.map((c) => c.digest),
        list.map((c) => c.offset),
        list.map((c) => c.storedSize),
        list.map((c) => c.rawSize),
        list.map((c) => c.codec),
      ],
    );
    // Versions that found these chunks in the old pack now find them here:
    // they reference this pack too, so GC keeps it for them (over-approximate,
    // never under).
    const from = moved.rows.map((r) => r.pack_id);
    if (from.length > 0) {
      await tx.query(
        `INSERT INTO version_packs (tenant_id, version_id, pack_id)
         SELECT DISTINCT tenant_id, version_id, $2 FROM version_packs
          WHERE tenant_id = $1 AND pack_id = ANY($3::text[])
         ON CONFLICT DO NOTHING`,
        [tenant, pack.id, from],
      );
    }
  }
  await tx.query(
    `INSERT INTO session_packs (tenant_id, session_id, pack_id, size, state)
     VALUES ($1, $2, $3, $4, 'verified')
     ON CONFLICT (tenant_id, session_id, pack_id) DO UPDATE SET state = 'verified'`,
    [tenant, sessionId, pack.id, pack.size],
  );
}

/** Saves commit progress and the packs found so far, inside the caller's transaction. */
export async function saveCommitProgressTx(
  tx: SqlClient,
  tenant: string,
  sessionId: string,
  progress: CommitProgress,
  referencedPacks: Digest[],
): Promise<void> {
  await lockOpenSession(tx, tenant, sessionId, 'UPDATE');
  // Concurrent commit calls may finish out of order: progress only moves
  // forward, so a slow caller cannot make the next one redo verified work.
  await tx.query(
    `UPDATE upload_sessions SET progress = $3::jsonb
      WHERE tenant_id = $1 AND id = $2
        AND ((progress->>'manifestValid')::boolean, (progress->>'entriesChecked')::bigint,
             COALESCE((progress->>'refsChecked')::bigint, 0))
            <= ($4::boolean, $5::bigint, $6::bigint)`,
    [
      tenant,
      sessionId,
      JSON.stringify(progress),
      progress.manifestValid,
      progress.entriesChecked,
      progress.refsChecked ?? 0,
    ],
  );
  if (referencedPacks.length > 0) {
    await tx.query(
      `INSERT INTO session_ref_packs (tenant_id, session_id, pack_id)
       SELECT $1, $2, p FROM unnest($3::text[]) AS p ON CONFLICT DO NOTHING`,
      [tenant, sessionId, referencedPacks],
    );
  }
}

/** Locks an open, unexpired session row for the rest of the transaction, or throws. */
export async function lockOpenSession(
  tx: SqlClient,
  tenant: string,
  sessionId: string,
  mode: 'SHARE' | 'UPDATE' = 'SHARE',
): Promise<void> {
  if (!UUID_RE.test(sessionId)) throw sessionNotFound(sessionId);
  // SHARE lets pack verifications of one session run in parallel yet blocks the
  // commit; writers of the session row itself take UPDATE to avoid upgrade deadlocks.
  const r = await tx.query(
    `SELECT 1 FROM upload_sessions
      WHERE tenant_id = $1 AND id = $2 AND state = 'open' AND expires_at > now()
      FOR ${mode}`,
    [tenant, sessionId],
  );
  if (r.rows.length === 0) throw sessionNotFound(sessionId);
}
