import type { ArchiveFormat, ChunkCodec, Digest } from '../core/types.js';
import type { ArchiveRecord } from '../ports/archive-record.js';
import type { PresignedRequest } from '../ports/blob-store.js';

/**
 * What the services answer, in their own terms. Several equal a wire type of
 * src/api/schemas.ts field for field; the HTTP layer sends those as they are
 * and src/http/wire.ts checks at compile time that each is assignable to its
 * wire type, so a drift fails the type check instead of a client. Dates are
 * ISO 8601 strings; tenants never appear.
 */

/** A storage: its head and how many history entries it has. */
export interface StorageSummary {
  /** Storage name. */
  name: string;
  /** Current version id, or null before the first push. */
  head: Digest | null;
  /** Number of history entries. */
  entries: number;
  /** When the storage was created. */
  createdAt: string;
  /** When head last moved. */
  updatedAt: string;
}

/** The archive states a client sees (retention's evicted and deleted rows are not listed). */
export type ListedArchiveState = Exclude<ArchiveRecord['state'], 'evicted' | 'deleted'>;

/** One archive of a version. */
export interface ArchiveSummary {
  /** Archive format. */
  format: ArchiveFormat;
  /** Build state. */
  state: ListedArchiveState;
  /** Size of the stored archive once ready. */
  size: number | null;
  /** SHA-256 of the stored archive once ready. */
  sha256: Digest | null;
  /** Presigned GET, when the archive is ready and URLs were asked for. */
  download?: PresignedRequest;
}

/** A version as it appears in a storage's history. */
export interface VersionSummary {
  /** Version id (SHA-256 of the manifest). */
  id: Digest;
  /** Storage of this history entry. */
  storage: string;
  /** Position in the storage's history. */
  seq: number;
  /** Head this push replaced. */
  parent: Digest | null;
  /** Push message. */
  message: string;
  /** Sum of the file sizes. */
  size: number;
  /** Number of regular files. */
  files: number;
  /** Number of manifest entries. */
  entries: number;
  /** Number of chunk references. */
  chunkRefs: number;
  /** Manifest byte length. */
  manifestSize: number;
  /** Pack bytes this push uploaded. */
  bytesUploaded: number;
  /** When the history entry was recorded. */
  createdAt: string;
  /** Archives of the version. */
  archives: ArchiveSummary[];
}

/** A version with its storage's head and the manifest's presigned GET. */
export interface VersionDetail extends VersionSummary {
  /** Current head of the storage. */
  head: Digest | null;
  /** Presigned GET of the manifest. */
  manifest: PresignedRequest;
}

/** A page of storages. */
export interface StoragePage {
  /** Storages ordered by name. */
  storages: StorageSummary[];
  /** Cursor of the next page, null on the last. */
  nextCursor: string | null;
}

/** A page of history. */
export interface VersionPage {
  /** History entries, newest first. */
  versions: VersionSummary[];
  /** Cursor of the next page, null on the last. */
  nextCursor: string | null;
}

/** The start of a push: nothing to upload (the version exists), or an open session. */
export type StartUploadResult =
  | {
      /** The tenant has this version: head moved (or already was it). */
      status: 'exists';
      /** The history entry of the version. */
      version: VersionSummary;
      /** True when head already was this version (nothing recorded). */
      unchanged: boolean;
    }
  | {
      /** A session opened. */
      status: 'open';
      /** Session id. */
      session: string;
      /** When the session's lease ends. */
      expiresAt: string;
      /** Presigned PUT of the manifest; absent when the server holds it (a repair push). */
      manifestUpload?: PresignedRequest;
      /** Presigned PUT of the offered manifest delta, when its base is known. */
      deltaUpload?: PresignedRequest;
    };

/** Chunks the tenant lacks. */
export interface MissingChunks {
  /** Digests not stored (or stored in a missing pack), deduplicated, in request order. */
  missing: Digest[];
}

/** The answer to a pack declaration. */
export interface PackUploads {
  /** One presigned PUT per pack to upload. */
  uploads: { pack: Digest; request: PresignedRequest }[];
  /** Packs already stored and verified: nothing to upload. */
  present: Digest[];
}

/**
 * One commit call: the version is visible, or verification continues and
 * the caller calls again (work per call is bounded).
 */
export type CommitResult =
  | {
      /** The version is committed (the same answer for every repeat). */
      state: 'committed';
      /** The history entry the commit made. */
      version: VersionSummary;
      /** False when the tenant already had the version. */
      created: boolean;
      /** Head before the commit. */
      previousHead: Digest | null;
    }
  | {
      /** Verification continues; call commit again. */
      state: 'verifying';
      /** Packs of the session verified so far. */
      packsVerified: number;
      /** Packs of the session. */
      packsTotal: number;
      /** Manifest entries checked so far. */
      entriesChecked: number;
      /** Manifest entries (0 until the manifest was validated). */
      entriesTotal: number;
    };

/** One chunk of a planned range. */
export interface PlanChunk {
  /** Chunk digest. */
  digest: Digest;
  /** Offset of the stored bytes relative to the start of the range. */
  offset: number;
  /** Stored (possibly compressed) size. */
  storedSize: number;
  /** Size after decoding. */
  rawSize: number;
  /** How the chunk is stored. */
  codec: ChunkCodec;
}

/** Where a client finds the chunks it lacks. */
export interface Plan {
  /** Per pack: one presigned GET and the coalesced ranges [start, end) to read. */
  packs: {
    pack: Digest;
    request: PresignedRequest;
    ranges: { start: number; end: number; chunks: PlanChunk[] }[];
  }[];
  /** Requested digests the tenant does not hold. */
  unknown: Digest[];
}

/** Reported packs the server found gone. */
export interface MissingPacks {
  /** Packs whose objects are absent (now marked missing). */
  missing: Digest[];
}
