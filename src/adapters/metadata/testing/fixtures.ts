import { createHash } from 'node:crypto';
import type { PackedChunk } from '../../../core/types.js';
import { TroveError } from '../../../errors.js';
import type { MetadataStore, NewSession } from '../../../ports/metadata-store.js';

/** Shared fixtures of the MetadataStore conformance suites (imported by each, importing none). */

let counter = 0;
/** A fresh, unique 64-hex digest. */
export function digest(label = ''): string {
  counter += 1;
  return createHash('sha256').update(`${label}:${counter}:${Math.random()}`).digest('hex');
}

const hour = () => new Date(Date.now() + 3_600_000);

export function newSession(tenant: string, over: Partial<NewSession> = {}): NewSession {
  return {
    tenant,
    storage: 'ws',
    versionId: digest('v'),
    manifestSize: 100,
    expectedHead: null,
    onConflict: 'fail',
    message: 'push',
    expiresAt: hour(),
    ...over,
  };
}

export function chunksOf(n: number): PackedChunk[] {
  return Array.from({ length: n }, (_, i) => ({
    digest: digest('c'),
    offset: i * 10,
    storedSize: 10,
    rawSize: 20,
    codec: 'zstd' as const,
  }));
}

export async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    return err instanceof TroveError ? err.code : `non-trove: ${String(err)}`;
  }
}

/**
 * Pushes a version through a full session: declares and verifies one pack,
 * saves progress referencing it, and commits. Returns the outcome.
 */
export async function pushVersion(
  store: MetadataStore,
  tenant: string,
  over: Partial<NewSession> = {},
  chunks: PackedChunk[] = chunksOf(3),
) {
  const s = await store.createSession(newSession(tenant, over));
  const pack = { id: digest('p'), size: 1000 };
  await store.addSessionPacks(tenant, s.id, [pack]);
  await store.recordVerifiedPack(tenant, s.id, pack, chunks);
  await store.saveCommitProgress(tenant, s.id, { entriesChecked: 3, manifestValid: true }, [
    pack.id,
  ]);
  const outcome = await store.finalizeCommit({
    tenant,
    sessionId: s.id,
    version: { id: s.versionId, manifestSize: 100, size: 60, files: 3, entries: 4, chunkRefs: 3 },
    archiveFormats: ['tar.zst'],
    bytesUploaded: 1000,
  });
  return { session: s, pack, outcome };
}
