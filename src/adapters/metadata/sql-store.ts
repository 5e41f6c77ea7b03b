import { randomUUID } from 'node:crypto';
import type { ArchiveFormat, Digest, PackedChunk } from '../../core/types.js';
import { TroveError } from '../../errors.js';
import type {
  ArchivePatch,
  ArchiveRecord,
  ChunkCheck,
  ChunkRef,
  CommitFailure,
  CommitOutcome,
  CommitProgress,
  FinalizeCommitInput,
  HistoryRecord,
  IndexedChunk,
  MetadataStore,
  NewSession,
  PackRecord,
  RecordExistingInput,
  SessionPackRecord,
  SessionPackTotals,
  SessionRecord,
  StorageRecord,
  VersionRecord,
} from '../../ports/metadata-store.js';
import {
  evictSupersededSql,
  isArchiveRetainedSql,
  purgeEvictedSql,
  updateArchiveSql,
} from './archive-sql.js';
import { checkChunksSql } from './chunk-check-sql.js';
import { finalizeCommitTx, recordExistingVersionTx, sessionNotFound } from './commit-sql.js';
import { runMigrations } from './migrations.js';
import {
  adoptLivePackTx,
  getPacksSql,
  listMissingVersionPacksSql,
  markPacksMissingSql,
} from './pack-sql.js';
import type {
  ArchiveRow,
  ChunkRow,
  HistoryRow,
  SessionPackRow,
  SessionRow,
  StorageRow,
  VersionRow,
} from './rows.js';
import {
  toArchive,
  toChunk,
  toHistory,
  toSession,
  toSessionPack,
  toStorage,
  toVersion,
} from './rows.js';
import {
  lockOpenSession,
  recordVerifiedPackTx,
  saveCommitProgressTx,
  UUID_RE,
} from './session-sql.js';
import type { SqlClient } from './sql-client.js';

const HISTORY_SELECT = `
  SELECT h.tenant_id, h.storage, h.seq, h.version_id, h.parent, h.message, h.bytes_uploaded,
         h.created_at, v.manifest_size AS v_manifest_size, v.size AS v_size, v.files AS v_files,
         v.entries AS v_entries, v.chunk_refs AS v_chunk_refs, v.created_at AS v_created_at
    FROM history h
    JOIN versions v ON v.tenant_id = h.tenant_id AND v.id = h.version_id`;

const HEX_RE = /^[0-9a-f]*$/;

/** bigint and count(*) arrive as number (PGlite) or string (pg). */
type Num = number | string;

/** MetadataStore over any SqlClient (PGlite or PostgreSQL): all domain SQL lives here. */
export class SqlMetadataStore implements MetadataStore {
  constructor(private readonly sql: SqlClient) {}

  async migrate(): Promise<void> {
    await runMigrations(this.sql);
  }

  async close(): Promise<void> {
    await this.sql.close();
  }

  async ping(): Promise<void> {
    try {
      await this.sql.query('SELECT 1');
    } catch (err) {
      throw new TroveError('unavailable', 'metadata database unreachable', undefined, {
        cause: err,
      });
    }
  }

  async ensureTenant(tenant: string): Promise<void> {
    await this.sql.query('INSERT INTO tenants (tenant_id) VALUES ($1) ON CONFLICT DO NOTHING', [
      tenant,
    ]);
  }

  async getStorage(tenant: string, name: string): Promise<StorageRecord | null> {
    const r = await this.sql.query<StorageRow>(
      'SELECT * FROM storages WHERE tenant_id = $1 AND name = $2',
      [tenant, name],
    );
    return r.rows[0] ? toStorage(r.rows[0]) : null;
  }

  async listStorages(
    tenant: string,
    page: { after?: string; limit: number },
  ): Promise<StorageRecord[]> {
    const r = await this.sql.query<StorageRow>(
      `SELECT * FROM storages WHERE tenant_id = $1 AND ($2::text IS NULL OR name > $2)
        ORDER BY name LIMIT $3`,
      [tenant, page.after ?? null, page.limit],
    );
    return r.rows.map(toStorage);
  }

  async listHistory(
    tenant: string,
    storage: string,
    page: { beforeSeq?: number; limit: number },
  ): Promise<HistoryRecord[]> {
    const r = await this.sql.query<HistoryRow>(
      `${HISTORY_SELECT}
        WHERE h.tenant_id = $1 AND h.storage = $2 AND ($3::integer IS NULL OR h.seq < $3)
        ORDER BY h.seq DESC LIMIT $4`,
      [tenant, storage, page.beforeSeq ?? null, page.limit],
    );
    return r.rows.map(toHistory);
  }

  async findHistoryByPrefix(
    tenant: string,
    storage: string,
    prefix: string,
    limit: number,
  ): Promise<HistoryRecord[]> {
    // Only hex reaches LIKE, so the prefix can never carry a wildcard.
    if (!HEX_RE.test(prefix)) return [];
    const r = await this.sql.query<HistoryRow>(
      `SELECT * FROM (
         SELECT DISTINCT ON (x.version_id) x.* FROM (${HISTORY_SELECT}
           WHERE h.tenant_id = $1 AND h.storage = $2 AND h.version_id LIKE $3) x
          ORDER BY x.version_id, x.seq DESC
       ) d ORDER BY d.seq DESC LIMIT $4`,
      [tenant, storage, `${prefix}%`, limit],
    );
    return r.rows.map(toHistory);
  }

  async getVersion(tenant: string, id: Digest): Promise<VersionRecord | null> {
    const r = await this.sql.query<VersionRow>(
      'SELECT * FROM versions WHERE tenant_id = $1 AND id = $2',
      [tenant, id],
    );
    return r.rows[0] ? toVersion(r.rows[0]) : null;
  }

  async findChunks(tenant: string, digests: Digest[]): Promise<IndexedChunk[]> {
    if (digests.length === 0) return [];
    const r = await this.sql.query<ChunkRow>(
      `SELECT c.digest, c.pack_id, c."offset", c.stored_size, c.raw_size, c.codec,
              p.state AS pack_state
         FROM chunks c JOIN packs p ON p.tenant_id = c.tenant_id AND p.id = c.pack_id
        WHERE c.tenant_id = $1 AND c.digest = ANY($2::text[])`,
      [tenant, digests],
    );
    return r.rows.map(toChunk);
  }

  async checkChunks(tenant: string, refs: readonly ChunkRef[]): Promise<ChunkCheck> {
    return checkChunksSql(this.sql, tenant, refs);
  }

  async listVersionPacks(tenant: string, versionId: Digest): Promise<string[]> {
    const r = await this.sql.query<{ pack_id: string }>(
      'SELECT pack_id FROM version_packs WHERE tenant_id = $1 AND version_id = $2 ORDER BY pack_id',
      [tenant, versionId],
    );
    return r.rows.map((row) => row.pack_id);
  }

  async getPacks(tenant: string, ids: readonly Digest[]): Promise<PackRecord[]> {
    return getPacksSql(this.sql, tenant, ids);
  }

  async markPacksMissing(tenant: string, ids: readonly Digest[]): Promise<Digest[]> {
    return markPacksMissingSql(this.sql, tenant, ids);
  }

  async listMissingVersionPacks(tenant: string, versionId: Digest): Promise<Digest[]> {
    return listMissingVersionPacksSql(this.sql, tenant, versionId);
  }

  async adoptLivePack(tenant: string, sessionId: string, packId: Digest): Promise<boolean> {
    if (!UUID_RE.test(sessionId)) throw sessionNotFound(sessionId);
    return this.sql.transaction((tx) => adoptLivePackTx(tx, tenant, sessionId, packId));
  }

  async createSession(s: NewSession): Promise<SessionRecord> {
    const r = await this.sql.query<SessionRow>(
      `INSERT INTO upload_sessions (tenant_id, id, storage, version_id, manifest_size,
         expected_head, on_conflict, message, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *`,
      [
        s.tenant,
        randomUUID(),
        s.storage,
        s.versionId,
        s.manifestSize,
        s.expectedHead,
        s.onConflict,
        s.message,
        s.expiresAt,
      ],
    );
    return toSession(r.rows[0]!);
  }

  async getSession(tenant: string, id: string): Promise<SessionRecord | null> {
    if (!UUID_RE.test(id)) return null;
    const r = await this.sql.query<SessionRow>(
      'SELECT * FROM upload_sessions WHERE tenant_id = $1 AND id = $2',
      [tenant, id],
    );
    return r.rows[0] ? toSession(r.rows[0]) : null;
  }

  async addSessionPacks(
    tenant: string,
    sessionId: string,
    packs: { id: Digest; size: number }[],
  ): Promise<void> {
    await this.sql.transaction(async (tx) => {
      await lockOpenSession(tx, tenant, sessionId);
      if (packs.length === 0) return;
      // Same lock order for concurrent calls declaring overlapping packs (no deadlock).
      const sorted = [...packs].sort((a, b) => (a.id < b.id ? -1 : 1));
      await tx.query(
        `INSERT INTO session_packs (tenant_id, session_id, pack_id, size)
         SELECT $1, $2, p.id, p.size FROM unnest($3::text[], $4::bigint[]) AS p(id, size)
         ON CONFLICT DO NOTHING`,
        [tenant, sessionId, sorted.map((p) => p.id), sorted.map((p) => p.size)],
      );
    });
  }

  async listSessionPacks(
    tenant: string,
    sessionId: string,
    page: { state?: 'pending' | 'verified'; after?: string; limit: number },
  ): Promise<SessionPackRecord[]> {
    if (!UUID_RE.test(sessionId)) return [];
    const r = await this.sql.query<SessionPackRow>(
      `SELECT pack_id, size, state FROM session_packs
        WHERE tenant_id = $1 AND session_id = $2
          AND ($3::text IS NULL OR state = $3) AND ($4::text IS NULL OR pack_id > $4)
        ORDER BY pack_id LIMIT $5`,
      [tenant, sessionId, page.state ?? null, page.after ?? null, page.limit],
    );
    return r.rows.map(toSessionPack);
  }

  async recordVerifiedPack(
    tenant: string,
    sessionId: string,
    pack: { id: Digest; size: number },
    chunks: PackedChunk[],
  ): Promise<void> {
    await this.sql.transaction((tx) => recordVerifiedPackTx(tx, tenant, sessionId, pack, chunks));
  }

  async saveCommitProgress(
    tenant: string,
    sessionId: string,
    progress: CommitProgress,
    referencedPacks: Digest[],
  ): Promise<void> {
    await this.sql.transaction((tx) =>
      saveCommitProgressTx(tx, tenant, sessionId, progress, referencedPacks),
    );
  }

  async saveCommitFailure(
    tenant: string,
    sessionId: string,
    failure: CommitFailure | null,
  ): Promise<void> {
    if (!UUID_RE.test(sessionId)) return;
    await this.sql.query(
      `UPDATE upload_sessions SET commit_failure = $3::jsonb
        WHERE tenant_id = $1 AND id = $2 AND state = 'open'`,
      [tenant, sessionId, failure === null ? null : JSON.stringify(failure)],
    );
  }

  async sessionPackTotals(tenant: string, sessionId: string): Promise<SessionPackTotals> {
    if (!UUID_RE.test(sessionId)) return { packs: 0, verified: 0, bytes: 0 };
    const r = await this.sql.query<{ n: Num; v: Num; b: Num }>(
      `SELECT count(*) AS n, count(*) FILTER (WHERE state = 'verified') AS v,
              coalesce(sum(size), 0) AS b
         FROM session_packs WHERE tenant_id = $1 AND session_id = $2`,
      [tenant, sessionId],
    );
    const row = r.rows[0];
    return {
      packs: Number(row?.n ?? 0),
      verified: Number(row?.v ?? 0),
      bytes: Number(row?.b ?? 0),
    };
  }

  async finalizeCommit(input: FinalizeCommitInput): Promise<CommitOutcome> {
    if (!UUID_RE.test(input.sessionId)) throw sessionNotFound(input.sessionId);
    return this.sql.transaction((tx) => finalizeCommitTx(tx, input));
  }

  async recordExistingVersion(input: RecordExistingInput): Promise<CommitOutcome> {
    return this.sql.transaction((tx) => recordExistingVersionTx(tx, input));
  }

  async listArchives(tenant: string, versionId: Digest): Promise<ArchiveRecord[]> {
    const r = await this.sql.query<ArchiveRow>(
      'SELECT * FROM archives WHERE tenant_id = $1 AND version_id = $2 ORDER BY format',
      [tenant, versionId],
    );
    return r.rows.map(toArchive);
  }

  async listStaleArchives(updatedBefore: Date, limit: number): Promise<ArchiveRecord[]> {
    const r = await this.sql.query<ArchiveRow>(
      `SELECT * FROM archives WHERE state IN ('pending', 'building') AND updated_at < $1
        ORDER BY updated_at LIMIT $2`,
      [updatedBefore, limit],
    );
    return r.rows.map(toArchive);
  }

  async updateArchive(
    tenant: string,
    versionId: Digest,
    format: ArchiveFormat,
    patch: ArchivePatch,
  ): Promise<boolean> {
    return updateArchiveSql(this.sql, tenant, versionId, format, patch);
  }

  async evictSupersededArchives(keep: number, limit: number): Promise<ArchiveRecord[]> {
    return evictSupersededSql(this.sql, keep, limit);
  }

  async isArchiveRetained(tenant: string, versionId: Digest, keep: number): Promise<boolean> {
    return isArchiveRetainedSql(this.sql, tenant, versionId, keep);
  }

  async purgeEvictedArchives(
    graceSeconds: number,
    limit: number,
    deleteObjects: (archives: ArchiveRecord[]) => Promise<void>,
  ): Promise<ArchiveRecord[]> {
    return purgeEvictedSql(this.sql, graceSeconds, limit, deleteObjects);
  }
}
