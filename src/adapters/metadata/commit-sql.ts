import type { ArchiveFormat } from '../../core/types.js';
import { TroveError } from '../../errors.js';
import type {
  CommitOutcome,
  FinalizeCommitInput,
  RecordExistingInput,
} from '../../ports/metadata-store.js';
import type { SessionRow } from './rows.js';
import { toSession } from './rows.js';
import type { SqlClient } from './sql-client.js';

/** What moving head needs, shared by a session commit and a version-level dedup push. */
interface HeadMove {
  tenant: string;
  storage: string;
  versionId: string;
  expectedHead: string | null;
  onConflict: 'fail' | 'force';
  message: string;
  bytesUploaded: number;
  archiveFormats: ArchiveFormat[];
}

/**
 * The commit point, inside the caller's transaction. Order matters: the
 * session row is locked first so a repeated commit waits for the first and then
 * sees its stored outcome; packs are locked FOR SHARE so GC cannot condemn one
 * between the liveness check and the version insert.
 */
export async function finalizeCommitTx(
  tx: SqlClient,
  input: FinalizeCommitInput,
): Promise<CommitOutcome> {
  const { tenant, sessionId } = input;
  const found = await tx.query<SessionRow & { expired: boolean }>(
    `SELECT *, expires_at <= now() AS expired FROM upload_sessions
      WHERE tenant_id = $1 AND id = $2 FOR UPDATE`,
    [tenant, sessionId],
  );
  const row = found.rows[0];
  if (!row) throw sessionNotFound(sessionId);
  const session = toSession(row);
  if (session.state === 'committed' && session.outcome) return session.outcome;
  if (session.state !== 'open' || row.expired) throw sessionNotFound(sessionId);
  if (input.version.id !== session.versionId) {
    throw new TroveError('invalid_request', 'commit version differs from the session version', {
      session: session.versionId,
      version: input.version.id,
    });
  }

  const refs = await tx.query<{ pack_id: string }>(
    'SELECT pack_id FROM session_ref_packs WHERE tenant_id = $1 AND session_id = $2',
    [tenant, sessionId],
  );
  const live = await tx.query<{ id: string }>(
    `SELECT id FROM packs
      WHERE tenant_id = $1 AND state = 'live'
        AND id IN (SELECT pack_id FROM session_ref_packs WHERE tenant_id = $1 AND session_id = $2)
      FOR SHARE`,
    [tenant, sessionId],
  );
  if (live.rows.length !== refs.rows.length) {
    const alive = new Set(live.rows.map((r) => r.id));
    const gone = refs.rows.map((r) => r.pack_id).filter((id) => !alive.has(id));
    throw new TroveError('missing_chunks', 'packs referenced by the manifest are no longer live', {
      packs: gone,
    });
  }

  const v = input.version;
  const inserted = await tx.query(
    `INSERT INTO versions (tenant_id, id, manifest_size, size, files, entries, chunk_refs)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (tenant_id, id) DO NOTHING RETURNING id`,
    [tenant, v.id, v.manifestSize, v.size, v.files, v.entries, v.chunkRefs],
  );
  if (inserted.rows.length === 0) {
    // A push of a version that exists is a repair (one of its packs went
    // missing): this commit checked every chunk of the manifest, so the packs
    // it found are exactly what the version needs now, and an archive build
    // that failed for want of them may run again.
    await tx.query(
      `UPDATE archives SET state = 'pending', error = NULL, updated_at = now()
        WHERE tenant_id = $1 AND version_id = $2 AND state = 'failed'`,
      [tenant, v.id],
    );
    await tx.query(
      `DELETE FROM version_packs WHERE tenant_id = $1 AND version_id = $3
          AND pack_id NOT IN (SELECT pack_id FROM session_ref_packs
                               WHERE tenant_id = $1 AND session_id = $2)`,
      [tenant, sessionId, v.id],
    );
  }
  await tx.query(
    `INSERT INTO version_packs (tenant_id, version_id, pack_id)
     SELECT tenant_id, $3, pack_id FROM session_ref_packs WHERE tenant_id = $1 AND session_id = $2
     ON CONFLICT DO NOTHING`,
    [tenant, sessionId, v.id],
  );
  const moved = await moveHeadTx(tx, {
    tenant,
    storage: session.storage,
    versionId: v.id,
    expectedHead: session.expectedHead,
    onConflict: session.onConflict,
    message: session.message,
    bytesUploaded: input.bytesUploaded,
    archiveFormats: input.archiveFormats,
  });
  const outcome: CommitOutcome = {
    versionId: v.id,
    storage: session.storage,
    created: inserted.rows.length > 0,
    seq: moved.seq,
    previousHead: moved.previousHead,
  };
  await tx.query(
    `UPDATE upload_sessions SET state = 'committed', outcome = $3::jsonb
      WHERE tenant_id = $1 AND id = $2`,
    [tenant, sessionId, JSON.stringify(outcome)],
  );
  return outcome;
}

/** Version-level dedup push: head CAS, history and archive rows, no session. */
export async function recordExistingVersionTx(
  tx: SqlClient,
  input: RecordExistingInput,
): Promise<CommitOutcome> {
  const exists = await tx.query(
    'SELECT 1 FROM versions WHERE tenant_id = $1 AND id = $2 FOR SHARE',
    [input.tenant, input.versionId],
  );
  if (exists.rows.length === 0) {
    throw new TroveError('version_not_found', `version ${input.versionId} does not exist`);
  }
  const moved = await moveHeadTx(tx, { ...input, bytesUploaded: 0 });
  return {
    versionId: input.versionId,
    storage: input.storage,
    created: false,
    seq: moved.seq,
    previousHead: moved.previousHead,
  };
}

/**
 * Compare-and-set of head under a row lock. The storage row is created on
 * first push; INSERT ... ON CONFLICT DO NOTHING then SELECT ... FOR UPDATE
 * makes two concurrent creators serialize on the same row.
 */
async function moveHeadTx(
  tx: SqlClient,
  m: HeadMove,
): Promise<{ seq: number | null; previousHead: string | null }> {
  await tx.query('INSERT INTO storages (tenant_id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING', [
    m.tenant,
    m.storage,
  ]);
  const locked = await tx.query<{ head: string | null; entries: number | string }>(
    'SELECT head, entries FROM storages WHERE tenant_id = $1 AND name = $2 FOR UPDATE',
    [m.tenant, m.storage],
  );
  const row = locked.rows[0];
  if (!row) throw new TroveError('internal', `storage ${m.storage} vanished during commit`);
  const head = row.head;
  let seq: number | null = null;
  if (head !== m.versionId) {
    if (head !== m.expectedHead && m.onConflict === 'fail') {
      throw new TroveError(
        'head_conflict',
        `head of ${m.storage} moved: expected ${m.expectedHead ?? 'no head'}, found ${head ?? 'no head'}`,
        { head, expected: m.expectedHead },
      );
    }
    seq = Number(row.entries) + 1;
    await tx.query(
      `INSERT INTO history (tenant_id, storage, seq, version_id, parent, message, bytes_uploaded)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [m.tenant, m.storage, seq, m.versionId, m.expectedHead, m.message, m.bytesUploaded],
    );
    await tx.query(
      `UPDATE storages SET head = $3, entries = $4, updated_at = now()
        WHERE tenant_id = $1 AND name = $2`,
      [m.tenant, m.storage, m.versionId, seq],
    );
  }
  if (m.archiveFormats.length > 0) {
    await tx.query(
      `INSERT INTO archives (tenant_id, version_id, format)
       SELECT $1, $2, f FROM unnest($3::text[]) AS f ON CONFLICT DO NOTHING`,
      [m.tenant, m.versionId, m.archiveFormats],
    );
  }
  return { seq, previousHead: head };
}

export function sessionNotFound(id: string): TroveError {
  return new TroveError(
    'session_not_found',
    `upload session ${id} does not exist, expired or ended`,
  );
}
