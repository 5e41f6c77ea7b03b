import { LIMITS } from '../core/limits.js';
import type { Digest } from '../core/types.js';
import { TroveError } from '../errors.js';
import type { HistoryRecord, StorageRecord } from '../ports/metadata-store.js';
import type { ServiceDeps } from './deps.js';
import { archiveKey, manifestKey } from './keys.js';
import {
  archiveSummary,
  decodeCursor,
  encodeCursor,
  isListedArchive,
  storageSummary,
  versionSummary,
} from './present.js';
import type {
  ArchiveSummary,
  StoragePage,
  StorageSummary,
  VersionDetail,
  VersionPage,
  VersionSummary,
} from './results.js';

/** A page request: opaque cursor from the previous page and a size. */
export interface PageRequest {
  /** nextCursor of the previous page. */
  cursor?: string | undefined;
  /** Page size, 1..LIMITS.maxPageSize. */
  limit?: number | undefined;
}

function pageSize(limit: number | undefined): number {
  return Math.max(1, Math.min(limit ?? 100, LIMITS.maxPageSize));
}

function badCursor(): TroveError {
  return new TroveError('invalid_request', 'cursor is not one this server returned');
}

/** Storages, history and version lookups (read side). */
export class VersionService {
  constructor(private readonly deps: ServiceDeps) {}

  /** Storages ordered by name. */
  async listStorages(tenant: string, page: PageRequest): Promise<StoragePage> {
    const limit = pageSize(page.limit);
    const after = page.cursor === undefined ? undefined : decodeCursor('storages', page.cursor);
    if (after === null) throw badCursor();
    const rows = await this.deps.metadata.listStorages(tenant, {
      ...(after !== undefined ? { after } : {}),
      limit: limit + 1,
    });
    const more = rows.length > limit;
    const shown = rows.slice(0, limit);
    const last = shown.at(-1);
    return {
      storages: shown.map(storageSummary),
      nextCursor: more && last ? encodeCursor('storages', last.name) : null,
    };
  }

  /** One storage; throws storage_not_found. */
  async getStorage(tenant: string, name: string): Promise<StorageSummary> {
    return storageSummary(await this.requireStorage(tenant, name));
  }

  /** History of a storage, newest first. */
  async listVersions(tenant: string, storage: string, page: PageRequest): Promise<VersionPage> {
    await this.requireStorage(tenant, storage);
    const limit = pageSize(page.limit);
    let beforeSeq: number | undefined;
    if (page.cursor !== undefined) {
      const raw = decodeCursor('history', page.cursor);
      if (raw === null) throw badCursor();
      beforeSeq = Number(raw);
    }
    const rows = await this.deps.metadata.listHistory(tenant, storage, {
      ...(beforeSeq !== undefined ? { beforeSeq } : {}),
      limit: limit + 1,
    });
    const more = rows.length > limit;
    const shown = rows.slice(0, limit);
    // One archive query per version: bounded by the page size.
    const versions = await Promise.all(shown.map((h) => this.summarize(tenant, h, false)));
    const last = shown.at(-1);
    return { versions, nextCursor: more && last ? encodeCursor('history', last.seq) : null };
  }

  /** A version by ref, with the manifest URL and download URLs of ready archives. */
  async getVersion(tenant: string, storage: string, ref: string): Promise<VersionDetail> {
    const { record, entry } = await this.resolve(tenant, storage, ref);
    const ttl = this.deps.config.urlTtlSeconds;
    const [summary, manifest] = await Promise.all([
      this.summarize(tenant, entry, true),
      this.deps.blobs.presignGet(manifestKey(tenant, entry.version.id), { expiresInSeconds: ttl }),
    ]);
    return { ...summary, head: record.head, manifest };
  }

  /**
   * Resolves 'latest', a full id or a unique hex prefix (>= 4 chars) to the
   * newest history entry of that version in the storage.
   */
  async resolve(
    tenant: string,
    storage: string,
    ref: string,
  ): Promise<{ record: StorageRecord; entry: HistoryRecord }> {
    const record = await this.requireStorage(tenant, storage);
    let prefix: string;
    if (ref === 'latest') {
      if (record.head === null)
        throw new TroveError('version_not_found', `storage ${storage} has no version yet`);
      prefix = record.head;
    } else if (/^[0-9a-f]{4,64}$/.test(ref)) {
      prefix = ref;
    } else {
      throw new TroveError('invalid_request', `invalid version reference ${JSON.stringify(ref)}`);
    }
    const found = await this.deps.metadata.findHistoryByPrefix(tenant, storage, prefix, 2);
    const distinct = new Set(found.map((h) => h.version.id));
    if (distinct.size > 1) {
      throw new TroveError('ambiguous_version', `version prefix ${ref} matches several versions`, {
        candidates: [...distinct],
      });
    }
    const entry = found[0];
    if (!entry) {
      throw new TroveError('version_not_found', `no version ${ref} in storage ${storage}`, {
        storage,
        ref,
      });
    }
    return { record, entry };
  }

  /** The summary of a history entry (archives with URLs when asked). */
  async summarize(tenant: string, entry: HistoryRecord, urls: boolean): Promise<VersionSummary> {
    const archives = await this.archives(tenant, entry.version.id, urls);
    return versionSummary(entry, archives);
  }

  /** Summary of the newest (or the `seq`) history entry of a version in a storage. */
  async summaryOf(
    tenant: string,
    storage: string,
    versionId: Digest,
    seq: number | null,
  ): Promise<VersionSummary> {
    const rows =
      seq === null
        ? await this.deps.metadata.findHistoryByPrefix(tenant, storage, versionId, 1)
        : await this.deps.metadata.listHistory(tenant, storage, { beforeSeq: seq + 1, limit: 1 });
    const entry = rows[0];
    if (!entry || entry.version.id !== versionId) {
      throw new TroveError('internal', `history entry of ${versionId} in ${storage} not found`);
    }
    return this.summarize(tenant, entry, false);
  }

  private async archives(tenant: string, versionId: Digest, urls: boolean) {
    const rows = await this.deps.metadata.listArchives(tenant, versionId);
    return Promise.all(
      rows.filter(isListedArchive).map(async (a): Promise<ArchiveSummary> => {
        const summary = archiveSummary(a);
        if (!urls || a.state !== 'ready') return summary;
        const download = await this.deps.blobs.presignGet(archiveKey(tenant, versionId, a.format), {
          expiresInSeconds: this.deps.config.urlTtlSeconds,
        });
        return { ...summary, download };
      }),
    );
  }

  private async requireStorage(tenant: string, name: string): Promise<StorageRecord> {
    const record = await this.deps.metadata.getStorage(tenant, name);
    if (!record) throw new TroveError('storage_not_found', `no storage ${name}`, { storage: name });
    return record;
  }
}
