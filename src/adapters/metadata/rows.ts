import type { ArchiveFormat, ChunkCodec } from '../../core/types.js';
import type {
  ArchiveRecord,
  CommitFailure,
  CommitOutcome,
  CommitProgress,
  HistoryRecord,
  IndexedChunk,
  PackState,
  SessionPackRecord,
  SessionRecord,
  StorageRecord,
  VersionRecord,
} from '../../ports/metadata-store.js';

// Row shapes as drivers return them: bigint arrives as number (PGlite) or
// string (pg), timestamptz as Date (both); every mapper normalizes.
type Num = number | string;
type Time = Date | string;

const num = (v: Num): number => Number(v);
const numOrNull = (v: Num | null): number | null => (v === null ? null : Number(v));
const time = (v: Time): Date => (v instanceof Date ? v : new Date(v));

/** storages row. */
export interface StorageRow {
  tenant_id: string;
  name: string;
  head: string | null;
  entries: Num;
  created_at: Time;
  updated_at: Time;
}

export function toStorage(r: StorageRow): StorageRecord {
  return {
    tenant: r.tenant_id,
    name: r.name,
    head: r.head,
    entries: num(r.entries),
    createdAt: time(r.created_at),
    updatedAt: time(r.updated_at),
  };
}

/** versions row (also the v_-prefixed columns of history joins). */
export interface VersionRow {
  tenant_id: string;
  id: string;
  manifest_size: Num;
  size: Num;
  files: Num;
  entries: Num;
  chunk_refs: Num;
  created_at: Time;
}

export function toVersion(r: VersionRow): VersionRecord {
  return {
    tenant: r.tenant_id,
    id: r.id,
    manifestSize: num(r.manifest_size),
    size: num(r.size),
    files: num(r.files),
    entries: num(r.entries),
    chunkRefs: num(r.chunk_refs),
    createdAt: time(r.created_at),
  };
}

/** Columns selected by HISTORY_SELECT in sql-store.ts. */
export interface HistoryRow {
  tenant_id: string;
  storage: string;
  seq: Num;
  version_id: string;
  parent: string | null;
  message: string;
  bytes_uploaded: Num;
  created_at: Time;
  v_manifest_size: Num;
  v_size: Num;
  v_files: Num;
  v_entries: Num;
  v_chunk_refs: Num;
  v_created_at: Time;
}

export function toHistory(r: HistoryRow): HistoryRecord {
  return {
    storage: r.storage,
    seq: num(r.seq),
    version: toVersion({
      tenant_id: r.tenant_id,
      id: r.version_id,
      manifest_size: r.v_manifest_size,
      size: r.v_size,
      files: r.v_files,
      entries: r.v_entries,
      chunk_refs: r.v_chunk_refs,
      created_at: r.v_created_at,
    }),
    parent: r.parent,
    message: r.message,
    bytesUploaded: num(r.bytes_uploaded),
    createdAt: time(r.created_at),
  };
}

/** chunks row. */
export interface ChunkRow {
  digest: string;
  pack_id: string;
  offset: Num;
  stored_size: Num;
  raw_size: Num;
  codec: ChunkCodec;
  pack_state: PackState;
}

export function toChunk(r: ChunkRow): IndexedChunk {
  return {
    digest: r.digest,
    packId: r.pack_id,
    packState: r.pack_state,
    offset: num(r.offset),
    storedSize: num(r.stored_size),
    rawSize: num(r.raw_size),
    codec: r.codec,
  };
}

/** upload_sessions row. */
export interface SessionRow {
  tenant_id: string;
  id: string;
  storage: string;
  version_id: string;
  manifest_size: Num;
  expected_head: string | null;
  on_conflict: 'fail' | 'force';
  message: string;
  state: 'open' | 'committed' | 'aborted';
  progress: CommitProgress | string;
  outcome: CommitOutcome | string | null;
  commit_failure: CommitFailure | string | null;
  expires_at: Time;
  created_at: Time;
}

// jsonb arrives parsed from both drivers; a string would mean a driver configured otherwise.
const json = <T>(v: T | string): T => (typeof v === 'string' ? (JSON.parse(v) as T) : v);

export function toSession(r: SessionRow): SessionRecord {
  return {
    id: r.id,
    tenant: r.tenant_id,
    storage: r.storage,
    versionId: r.version_id,
    manifestSize: num(r.manifest_size),
    expectedHead: r.expected_head,
    onConflict: r.on_conflict,
    message: r.message,
    state: r.state,
    progress: json(r.progress),
    outcome: r.outcome === null ? null : json(r.outcome),
    commitFailure: r.commit_failure == null ? null : json(r.commit_failure),
    expiresAt: time(r.expires_at),
    createdAt: time(r.created_at),
  };
}

/** session_packs row. */
export interface SessionPackRow {
  pack_id: string;
  size: Num;
  state: 'pending' | 'verified';
}

export function toSessionPack(r: SessionPackRow): SessionPackRecord {
  return { id: r.pack_id, size: num(r.size), state: r.state };
}

/** archives row. */
export interface ArchiveRow {
  tenant_id: string;
  version_id: string;
  format: ArchiveFormat;
  state: ArchiveRecord['state'];
  size: Num | null;
  sha256: string | null;
  error: string | null;
  updated_at: Time;
  evicted_at: Time | null;
}

export function toArchive(r: ArchiveRow): ArchiveRecord {
  return {
    tenant: r.tenant_id,
    versionId: r.version_id,
    format: r.format,
    state: r.state,
    size: numOrNull(r.size),
    sha256: r.sha256,
    error: r.error,
    updatedAt: time(r.updated_at),
    evictedAt: r.evicted_at === null ? null : time(r.evicted_at),
  };
}
