import type { ArchiveRecord, HistoryRecord, StorageRecord } from '../ports/metadata-store.js';
import type {
  ArchiveSummary,
  ListedArchiveState,
  StorageSummary,
  VersionSummary,
} from './results.js';

/** Records → the services' answers (results.ts). Dates become ISO 8601 strings; tenants never leak out. */

/** A storage as the API shows it. */
export function storageSummary(s: StorageRecord): StorageSummary {
  return {
    name: s.name,
    head: s.head,
    entries: s.entries,
    createdAt: s.createdAt.toISOString(),
    updatedAt: s.updatedAt.toISOString(),
  };
}

/** An archive row the API lists: retention's evicted and deleted rows are not offered. */
export type ListedArchive = ArchiveRecord & { state: ListedArchiveState };

/** Whether the API lists this archive (an evicted one is no more use to a client than none). */
export function isListedArchive(a: ArchiveRecord): a is ListedArchive {
  return a.state !== 'evicted' && a.state !== 'deleted';
}

/** An archive row without a download URL. */
export function archiveSummary(a: ListedArchive): ArchiveSummary {
  return { format: a.format, state: a.state, size: a.size, sha256: a.sha256 };
}

/** A history entry with its version's numbers and archives. */
export function versionSummary(h: HistoryRecord, archives: ArchiveSummary[]): VersionSummary {
  return {
    id: h.version.id,
    storage: h.storage,
    seq: h.seq,
    parent: h.parent,
    message: h.message,
    size: h.version.size,
    files: h.version.files,
    entries: h.version.entries,
    chunkRefs: h.version.chunkRefs,
    manifestSize: h.version.manifestSize,
    bytesUploaded: h.bytesUploaded,
    createdAt: h.createdAt.toISOString(),
    archives,
  };
}

/** What a page cursor points into; each list accepts only its own kind. */
export type CursorKind = 'storages' | 'history';

/** The shape of the position each kind of cursor carries. */
const CURSOR_VALUE: Record<CursorKind, RegExp> = {
  storages: /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/,
  history: /^[1-9][0-9]{0,14}$/,
};

/** Encodes a page cursor (opaque to clients): the list it belongs to and a position. */
export function encodeCursor(kind: CursorKind, value: string | number): string {
  return Buffer.from(`${kind}:${value}`, 'utf8').toString('base64url');
}

/**
 * Decodes a page cursor of `kind`; null when it is not one this server could
 * have issued for that list: not canonical base64url, another list's, or a
 * position of the wrong shape (so junk is refused, never read as a position
 * that silently yields an empty page).
 */
export function decodeCursor(kind: CursorKind, cursor: string): string | null {
  if (!/^[A-Za-z0-9_-]*$/.test(cursor)) return null;
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  if (Buffer.from(text, 'utf8').toString('base64url') !== cursor) return null;
  const prefix = `${kind}:`;
  if (!text.startsWith(prefix)) return null;
  const value = text.slice(prefix.length);
  return CURSOR_VALUE[kind].test(value) ? value : null;
}
