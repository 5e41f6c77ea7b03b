import type { ArchiveFormat, Digest, PackedChunk } from '../core/types.js';
import type { ArchivePatch, ArchiveRecord } from './archive-record.js';

import type { PackRecord, PackState } from './pack-record.js';

export type { ArchivePatch, ArchiveRecord } from './archive-record.js';
export type { PackRecord, PackState } from './pack-record.js';

/**
 * Metadata port: storages, versions, the chunk index, upload sessions and
 * archives. One SQL implementation (src/adapters/metadata/sql-store.ts) runs on
 * PGlite and PostgreSQL through a tiny SqlClient; every method is scoped to a
 * tenant. Methods throw TroveError (`head_conflict`, `session_not_found`,
 * `unavailable`); "not found" reads return null instead of throwing.
 */
export interface MetadataStore {
  /** Applies pending migrations (idempotent, safe to run from several processes). */
  migrate(): Promise<void>;
  /** Releases connections. */
  close(): Promise<void>;
  /** Throws `unavailable` when the database cannot be reached. */
  ping(): Promise<void>;

  /** Creates the tenant row if missing. */
  ensureTenant(tenant: string): Promise<void>;

  /** One storage, or null. */
  getStorage(tenant: string, name: string): Promise<StorageRecord | null>;
  /** Storages ordered by name, strictly after `after`, at most `limit`. */
  listStorages(tenant: string, page: { after?: string; limit: number }): Promise<StorageRecord[]>;
  /** History entries of a storage, newest first, with seq < beforeSeq, at most `limit`. */
  listHistory(
    tenant: string,
    storage: string,
    page: { beforeSeq?: number; limit: number },
  ): Promise<HistoryRecord[]>;
  /**
   * Distinct versions of this storage's history whose id starts with `prefix`
   * (lowercase hex), newest entry first, at most `limit`.
   */
  findHistoryByPrefix(
    tenant: string,
    storage: string,
    prefix: string,
    limit: number,
  ): Promise<HistoryRecord[]>;
  /** A committed version of this tenant, or null. */
  getVersion(tenant: string, id: Digest): Promise<VersionRecord | null>;

  /**
   * Index entries of the given digests that this tenant has stored (absent
   * ones omitted), each with its pack's state: a chunk in a missing pack is
   * indexed but not stored, and callers must not count it as present.
   */
  findChunks(tenant: string, digests: Digest[]): Promise<IndexedChunk[]>;
  /**
   * Checks a batch of a manifest's chunk references (unique digests) against
   * this tenant's index in one round trip: the packs holding them, the
   * digests not indexed (or indexed in a missing pack), and the first
   * reference whose size differs.
   */
  checkChunks(tenant: string, refs: readonly ChunkRef[]): Promise<ChunkCheck>;
  /** Packs a committed version references (one row per pack). */
  listVersionPacks(tenant: string, versionId: Digest): Promise<string[]>;
  /** Pack rows of this tenant among `ids` (absent ones omitted), ordered by id. */
  getPacks(tenant: string, ids: readonly Digest[]): Promise<PackRecord[]>;
  /**
   * Marks packs `missing` (from live or condemned) and returns the ids whose
   * state changed. Callers first confirm with the object store that the
   * object is absent; a client's report alone never marks anything.
   */
  markPacksMissing(tenant: string, ids: readonly Digest[]): Promise<Digest[]>;
  /** Missing packs a version references that still hold index rows (empty: restorable). */
  listMissingVersionPacks(tenant: string, versionId: Digest): Promise<Digest[]>;
  /**
   * Marks a session's declared pack verified without reading it, when the
   * pack is already live (immutable and verified when first recorded).
   * Returns false when it is not live. Throws `session_not_found`.
   */
  adoptLivePack(tenant: string, sessionId: string, packId: Digest): Promise<boolean>;

  /** Opens an upload session. */
  createSession(session: NewSession): Promise<SessionRecord>;
  /** A session in any state, or null. */
  getSession(tenant: string, id: string): Promise<SessionRecord | null>;
  /** Records packs the client will upload (duplicates ignored). Throws `session_not_found`. */
  addSessionPacks(
    tenant: string,
    sessionId: string,
    packs: { id: Digest; size: number }[],
  ): Promise<void>;
  /** Packs of a session ordered by id, strictly after `after`, optionally only one state. */
  listSessionPacks(
    tenant: string,
    sessionId: string,
    page: { state?: 'pending' | 'verified'; after?: string; limit: number },
  ): Promise<SessionPackRecord[]>;
  /**
   * One transaction: inserts the pack row and its chunks into the index (a
   * chunk already indexed keeps its first location unless that pack is
   * condemned or missing: then the new pack takes the chunk over, and every
   * version that referenced the old pack references the new one too), and
   * marks the session's pack verified. Write-order step "packs -> index".
   */
  recordVerifiedPack(
    tenant: string,
    sessionId: string,
    pack: { id: Digest; size: number },
    chunks: PackedChunk[],
  ): Promise<void>;
  /**
   * Saves how far commit verification got and the packs the manifest's
   * chunks were found in so far (duplicates ignored).
   */
  saveCommitProgress(
    tenant: string,
    sessionId: string,
    progress: CommitProgress,
    referencedPacks: Digest[],
  ): Promise<void>;

  /** Stores (or, with null, clears) the failure a repeated commit call answers again. */
  saveCommitFailure(
    tenant: string,
    sessionId: string,
    failure: CommitFailure | null,
  ): Promise<void>;
  /**
   * One aggregate over a session's declared packs: how many, how many are
   * verified, and their declared bytes (zeros for an unknown session).
   */
  sessionPackTotals(tenant: string, sessionId: string): Promise<SessionPackTotals>;

  /**
   * One transaction, the commit point: re-checks the session is open and
   * unexpired (else `session_not_found`), that every referenced pack is still
   * live, inserts the version (if new) and its version->pack rows (for a
   * version that existed, e.g. a repair push after a pack went missing, its
   * rows become exactly the packs this commit found), moves head
   * with compare-and-set (`head_conflict` unless `onConflict` is 'force'),
   * appends a history entry, inserts pending archive rows for `archiveFormats`,
   * and marks the session committed with the outcome. When the session is
   * already committed, returns the stored outcome (idempotent).
   */
  finalizeCommit(input: FinalizeCommitInput): Promise<CommitOutcome>;

  /**
   * Version-level dedup: the version already exists in this tenant, so record
   * the push without a session: compare-and-set head and append a history
   * entry (no entry when head already equals the version).
   */
  recordExistingVersion(input: RecordExistingInput): Promise<CommitOutcome>;

  /** Archive rows of a version. */
  listArchives(tenant: string, versionId: Digest): Promise<ArchiveRecord[]>;
  /** Archives in state 'pending' or 'building' last updated before `updatedBefore`, any tenant. */
  listStaleArchives(updatedBefore: Date, limit: number): Promise<ArchiveRecord[]>;
  /**
   * Updates one archive row; returns false when the row does not exist. A
   * ready row only takes 'ready' (a stale worker must not undo a finished
   * build); an evicted or deleted row only takes 'building' (a rebuild), so a
   * stale worker's late 'ready' never claims an object retention removed.
   */
  updateArchive(
    tenant: string,
    versionId: Digest,
    format: ArchiveFormat,
    patch: ArchivePatch,
  ): Promise<boolean>;
  /**
   * Whether retention keeps this version's archives: it is among the newest
   * `keep` history entries of some storage of the tenant (always true for
   * keep = 0).
   */
  isArchiveRetained(tenant: string, versionId: Digest, keep: number): Promise<boolean>;
  /**
   * Retention, step 1: moves archives in state ready, pending or failed (not
   * building: that one is evicted once ready) to 'evicted', stamping
   * `evictedAt`, when their version is not among the newest `keep` history
   * entries of any storage of its tenant; at most `limit`, any tenant. Each
   * version is re-checked while its row is locked, and a push that makes it
   * head again waits for that lock, so the push's rebuild request sees the
   * eviction. Idempotent; safe with several workers.
   */
  evictSupersededArchives(keep: number, limit: number): Promise<ArchiveRecord[]>;
  /**
   * Retention, step 2: locks up to `limit` archives evicted at least
   * `graceSeconds` ago (database clock; rows another worker holds are
   * skipped), calls `deleteObjects` with them while the locks are held, then
   * marks them 'deleted'. A rebuild's 'building' update waits for the locks,
   * so it never writes the object before this delete. When `deleteObjects`
   * throws nothing is marked; it may be called again for the same archives.
   */
  purgeEvictedArchives(
    graceSeconds: number,
    limit: number,
    deleteObjects: (archives: ArchiveRecord[]) => Promise<void>,
  ): Promise<ArchiveRecord[]>;
}

/** A storage (line of versions). */
export interface StorageRecord {
  /** Tenant id. */
  tenant: string;
  /** Storage name. */
  name: string;
  /** Current head version, null for a storage with no version. */
  head: Digest | null;
  /** Number of history entries. */
  entries: number;
  /** Creation time. */
  createdAt: Date;
  /** Last time head moved. */
  updatedAt: Date;
}

/** A committed version (content-addressed, shared by the tenant's storages). */
export interface VersionRecord {
  /** Tenant id. */
  tenant: string;
  /** SHA-256 of the canonical manifest. */
  id: Digest;
  /** Byte length of the manifest. */
  manifestSize: number;
  /** Sum of file sizes. */
  size: number;
  /** Number of file entries. */
  files: number;
  /** Number of manifest entries (files, dirs, symlinks). */
  entries: number;
  /** Number of chunk references. */
  chunkRefs: number;
  /** First commit time. */
  createdAt: Date;
}

/** One push recorded in a storage's history, joined with its version. */
export interface HistoryRecord {
  /** Storage name. */
  storage: string;
  /** Position in the storage's history, 1-based and increasing. */
  seq: number;
  /** The version this entry made head. */
  version: VersionRecord;
  /** The version the push was based on (its expected head), or null. */
  parent: Digest | null;
  /** Free-form message given at push. */
  message: string;
  /** Bytes of new packs this push uploaded. */
  bytesUploaded: number;
  /** When head moved. */
  createdAt: Date;
}

/** An index row: where a chunk lives. */
/** A chunk as a manifest references it. */
export interface ChunkRef {
  /** SHA-256 of the raw bytes. */
  digest: Digest;
  /** Raw size the manifest declares. */
  size: number;
}

/** What checkChunks found for a batch of references. */
export interface ChunkCheck {
  /** Distinct packs holding the indexed ones, sorted. */
  packs: Digest[];
  /** Digests not in the index, sorted. */
  missing: Digest[];
  /** The first reference whose declared size differs from the indexed raw size, or null. */
  sizeMismatch: { digest: Digest; declared: number; stored: number } | null;
}

export interface IndexedChunk extends PackedChunk {
  /** The pack holding it. */
  packId: Digest;
  /** That pack's state (`missing`: the bytes are gone). */
  packState: PackState;
}

/** Input to open an upload session. */
export interface NewSession {
  /** Tenant id. */
  tenant: string;
  /** Storage the push targets (created on first commit). */
  storage: string;
  /** Version id the push will create (SHA-256 of the manifest). */
  versionId: Digest;
  /** Declared manifest byte length. */
  manifestSize: number;
  /** Expected head for compare-and-set; null means "the storage must have no head". */
  expectedHead: Digest | null;
  /** What to do when head moved: fail, or move head anyway recording the parent. */
  onConflict: 'fail' | 'force';
  /** Push message. */
  message: string;
  /** When the lease ends. */
  expiresAt: Date;
}

/** How far a resumable commit has got. */
export interface CommitProgress {
  /** Manifest entries already checked against the index. */
  entriesChecked: number;
  /** Chunk refs of entry `entriesChecked` already checked (absent: 0); a window may end inside a file. */
  refsChecked?: number;
  /** Whether the manifest itself was fetched, parsed and validated. */
  manifestValid: boolean;
}

/** A commit failure stored on its session, with the state it was computed in. */
export interface CommitFailure {
  /** The error code (missing_chunks). */
  code: 'missing_chunks';
  /** The error message. */
  message: string;
  /** The error details (missing digests, count). */
  details: Record<string, unknown>;
  /** Verified packs of the session when it was computed: a change invalidates it. */
  packsVerified: number;
  /** The commit progress it was computed at. */
  progress: CommitProgress;
}

/** An upload session (lease). */
export interface SessionRecord extends NewSession {
  /** Session id (UUID). */
  id: string;
  /** open, committed or aborted. */
  state: 'open' | 'committed' | 'aborted';
  /** Commit verification progress. */
  progress: CommitProgress;
  /** The stored outcome once committed. */
  outcome: CommitOutcome | null;
  /** The last commit failure worth answering again without recomputing, or null. */
  commitFailure: CommitFailure | null;
  /** Creation time. */
  createdAt: Date;
}

/** Totals over a session's declared packs. */
export interface SessionPackTotals {
  /** Packs declared. */
  packs: number;
  /** Of those, verified (or taken over as already live). */
  verified: number;
  /** Sum of their declared sizes. */
  bytes: number;
}

/** A pack declared in a session. */
export interface SessionPackRecord {
  /** Pack id (SHA-256 of its bytes). */
  id: Digest;
  /** Declared size. */
  size: number;
  /** pending until commit verified its bytes. */
  state: 'pending' | 'verified';
}

/** Input to the commit point. */
export interface FinalizeCommitInput {
  /** Tenant id. */
  tenant: string;
  /** The session being committed. */
  sessionId: string;
  /** Numbers from the validated manifest header. */
  version: Omit<VersionRecord, 'tenant' | 'createdAt'>;
  /** Archive formats to enqueue for materialization. */
  archiveFormats: ArchiveFormat[];
  /** Bytes of packs uploaded in this session. */
  bytesUploaded: number;
}

/** Input to record a push of an already-existing version. */
export interface RecordExistingInput {
  /** Tenant id. */
  tenant: string;
  /** Storage name. */
  storage: string;
  /** The existing version. */
  versionId: Digest;
  /** Expected head for compare-and-set. */
  expectedHead: Digest | null;
  /** fail or force on a moved head. */
  onConflict: 'fail' | 'force';
  /** Push message. */
  message: string;
  /** Archive formats that must exist (missing rows are inserted pending). */
  archiveFormats: ArchiveFormat[];
}

/** The result of a commit (stored on the session for idempotency). */
export interface CommitOutcome {
  /** The committed version id. */
  versionId: Digest;
  /** Storage name. */
  storage: string;
  /** False when the version already existed in the tenant. */
  created: boolean;
  /** The history entry's seq, or null when head already was this version. */
  seq: number | null;
  /** Head before this commit. */
  previousHead: Digest | null;
}
