import { createHash } from 'node:crypto';
import { ManifestDecoder, type ManifestHeaderLine } from '../core/manifest.js';
import type { Digest } from '../core/types.js';
import { TroveError } from '../errors.js';
import type { SessionRecord } from '../ports/metadata-store.js';
import { readRange } from './blob-io.js';
import { CommitTreeCheck } from './commit-tree.js';
import { CommitWindow } from './commit-window.js';
import type { ServiceDeps } from './deps.js';
import { manifestKey } from './keys.js';

/** Unique digests per index query (one round trip per batch, never one per chunk). */
const LOOKUP_BATCH = 10_000;
/** How many missing digests an error lists (the count is always exact for the window). */
const MISSING_LISTED = 100;

/** Result of one bounded pass over the manifest. */
export interface ManifestCheck {
  /** True when every entry has been checked. */
  done: boolean;
  /** Entries checked so far (saved as commit progress). */
  entriesChecked: number;
  /** The manifest header (numbers recorded on the version). */
  header: ManifestHeaderLine;
}

/**
 * Phase 2 of commit: checks the next window of the manifest (at most
 * `commitBudgetEntries` entries and `commitBudgetChunkRefs` chunk refs, see
 * CommitWindow) against the tenant's chunk index. The first pass streams the
 * whole manifest to validate it (canonical form, counts, SHA-256 = version id)
 * and records that once, even when its window fails; later passes stop at the
 * end of their window. The window's position is saved only when its every
 * chunk is indexed, so a failed commit can be retried after uploading what was
 * missing.
 */
export async function checkManifest(
  deps: ServiceDeps,
  tenant: string,
  session: SessionRecord,
): Promise<ManifestCheck> {
  const { blobs, metadata, config } = deps;
  const key = manifestKey(tenant, session.versionId);
  const stat = await blobs.stat(key);
  if (!stat) {
    throw new TroveError(
      'missing_upload',
      `the manifest of ${session.versionId} was never uploaded`,
      {
        manifest: session.versionId,
      },
    );
  }
  if (stat.size !== session.manifestSize) {
    throw new TroveError(
      'size_mismatch',
      `manifest is ${stat.size} bytes, declared ${session.manifestSize}`,
    );
  }
  const window = new CommitWindow(
    {
      entriesChecked: session.progress.entriesChecked,
      refsChecked: session.progress.refsChecked ?? 0,
    },
    { entries: config.commitBudgetEntries, refs: config.commitBudgetChunkRefs },
  );
  const fullScan = !session.progress.manifestValid;

  const decoder = new ManifestDecoder();
  const tree = fullScan ? new CommitTreeCheck() : null;
  const hash = createHash('sha256');
  const referenced = new Set<Digest>();
  const missing: Digest[] = [];
  let missingCount = 0;
  let batch = new Map<Digest, number>();

  const flush = async (): Promise<void> => {
    if (batch.size === 0) return;
    const refs = [...batch].map(([digest, size]) => ({ digest, size }));
    batch = new Map();
    const found = await metadata.checkChunks(tenant, refs);
    const bad = found.sizeMismatch;
    if (bad !== null) {
      throw new TroveError(
        'invalid_manifest',
        `chunk ${bad.digest} is listed with size ${bad.declared} but stored with size ${bad.stored}`,
        { digest: bad.digest },
      );
    }
    for (const p of found.packs) referenced.add(p);
    missingCount += found.missing.length;
    for (const d of found.missing) if (missing.length < MISSING_LISTED) missing.push(d);
  };

  let index = 0;
  for await (const part of await blobs.get(key)) {
    const bytes = part as Uint8Array;
    if (fullScan) hash.update(bytes);
    for (const e of decoder.push(bytes)) {
      tree?.entry(e);
      for (const c of window.take(index, e)) {
        batch.set(c.digest, c.size);
        if (batch.size >= LOOKUP_BATCH) await flush();
      }
      index++;
    }
    if (!fullScan && window.full) break;
  }
  await flush();
  if (fullScan) {
    decoder.end();
    const id = hash.digest('hex');
    if (id !== session.versionId) {
      throw new TroveError(
        'digest_mismatch',
        `manifest SHA-256 is ${id}, expected the version id`,
        {
          manifest: session.versionId,
        },
      );
    }
  }
  const header = decoder.header;
  if (!header) throw new TroveError('invalid_manifest', 'manifest has no header line');
  if (missingCount > 0) {
    // The validation pass costs the whole manifest: never repeat it for a retried window.
    if (fullScan)
      await metadata.saveCommitProgress(
        tenant,
        session.id,
        { ...session.progress, manifestValid: true },
        [],
      );
    throw new TroveError('missing_chunks', `${missingCount} chunks are referenced but not stored`, {
      missing,
      count: missingCount,
    });
  }
  const end = window.end;
  const entriesChecked = Math.min(end.entriesChecked, header.entries);
  await metadata.saveCommitProgress(
    tenant,
    session.id,
    { ...end, entriesChecked, manifestValid: true },
    [...referenced],
  );
  return { done: entriesChecked >= header.entries, entriesChecked, header };
}

/** The header of an uploaded manifest (its first line), or null when absent. */
export async function readManifestHeader(
  deps: Pick<ServiceDeps, 'blobs'>,
  tenant: string,
  versionId: Digest,
): Promise<ManifestHeaderLine | null> {
  const key = manifestKey(tenant, versionId);
  const stat = await deps.blobs.stat(key);
  if (!stat) return null;
  const head = await readRange(deps.blobs, key, { start: 0, end: Math.min(stat.size, 4096) });
  const nl = head.indexOf(0x0a);
  if (nl < 0) return null;
  const decoder = new ManifestDecoder();
  decoder.push(head.subarray(0, nl + 1));
  return decoder.header;
}
