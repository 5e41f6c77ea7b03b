/**
 * Domain types shared by the core, the server and the client. Pure data, no I/O.
 * Digests are lowercase hex SHA-256 strings (64 characters) everywhere.
 */

/** A lowercase hex SHA-256 digest (64 characters). */
export type Digest = string;

/** One chunk of a file as listed in a manifest: its digest and raw length. */
export interface ChunkRef {
  /** SHA-256 of the chunk's raw (uncompressed) bytes. */
  digest: Digest;
  /** Raw length in bytes. */
  size: number;
}

/** A regular file. */
export interface FileEntry {
  /** Relative POSIX path, '/'-separated, no '.', '..', empty or leading '/' segments. */
  path: string;
  type: 'file';
  /** True when the owner-executable bit is set; the only mode bit trove keeps. */
  executable: boolean;
  /** Total size in bytes; equals the sum of the chunk sizes. */
  size: number;
  /** The file's chunks in order; empty for an empty file. */
  chunks: ChunkRef[];
}

/** A directory (every directory of the tree is listed, empty or not). */
export interface DirEntry {
  /** Relative POSIX path of the directory. */
  path: string;
  type: 'dir';
}

/** A symbolic link; the target is stored verbatim and checked at pull time. */
export interface SymlinkEntry {
  /** Relative POSIX path of the link itself. */
  path: string;
  type: 'symlink';
  /** The link target exactly as readlink returned it. */
  target: string;
}

export type ManifestEntry = FileEntry | DirEntry | SymlinkEntry;

/** Summary numbers carried in the manifest header. */
export interface ManifestHeader {
  /** Number of entries that follow. */
  entries: number;
  /** Sum of file sizes in bytes. */
  size: number;
  /** Number of file entries. */
  files: number;
  /** Total number of chunk references (not unique chunks). */
  chunkRefs: number;
}

/** Where one chunk lives inside a pack, as recorded in the pack footer and the chunk index. */
export interface PackedChunk {
  /** SHA-256 of the raw bytes. */
  digest: Digest;
  /** Byte offset of the stored bytes inside the pack. */
  offset: number;
  /** Length of the stored (possibly compressed) bytes. */
  storedSize: number;
  /** Length of the raw bytes. */
  rawSize: number;
  /** How the stored bytes are encoded. */
  codec: ChunkCodec;
}

/** Encoding of a stored chunk: 'raw' (stored as is) or 'zstd' (one zstd frame). */
export type ChunkCodec = 'raw' | 'zstd';

/** Archive formats the worker can materialize. */
export type ArchiveFormat = 'tar.gz' | 'tar.zst';
