import type { Digest } from '../core/types.js';
import { TroveError } from '../errors.js';
import type { SessionRecord } from '../ports/metadata-store.js';
import type { ServiceDeps } from './deps.js';
import { deltaKey, manifestKey, packKey } from './keys.js';
import { enqueueMaterialize } from './materialize-jobs.js';
import type { MissingChunks, PackUploads, StartUploadResult } from './results.js';
import { VersionService } from './versions.js';

/** A validated start-upload request. */
export interface StartUploadInput {
  /** Version id = SHA-256 of the manifest the client will upload. */
  version: Digest;
  /** Manifest byte length. */
  manifestSize: number;
  /** Expected head for compare-and-set. */
  parent: Digest | null;
  /** fail or force when head moved. */
  onConflict: 'fail' | 'force';
  /** Push message. */
  message: string;
  /** A manifest delta the client offers instead of the manifest: its base, size and SHA-256. */
  manifestDelta?: { base: Digest; size: number; sha256: Digest } | undefined;
}

/**
 * Returns the session when it belongs to the tenant, is open and unexpired;
 * otherwise session_not_found (the same answer whatever the reason, so a
 * session id of another tenant reveals nothing).
 */
export async function requireOpenSession(
  deps: ServiceDeps,
  tenant: string,
  sessionId: string,
): Promise<SessionRecord> {
  // The id was checked at the edge (the route's schema); the store answers
  // null for anything that is not a session id, so nothing is checked twice.
  const session = await deps.metadata.getSession(tenant, sessionId);
  if (!session || session.tenant !== tenant || session.state !== 'open') {
    throw new TroveError('session_not_found', `no open upload session ${sessionId}`);
  }
  if (session.expiresAt.getTime() <= Date.now()) {
    throw new TroveError('session_not_found', `upload session ${sessionId} has expired`);
  }
  return session;
}

/** The push side before commit: sessions, missing chunks, presigned uploads. */
export class UploadService {
  private readonly versions: VersionService;

  constructor(private readonly deps: ServiceDeps) {
    this.versions = new VersionService(deps);
  }

  /**
   * Starts a push. A version the tenant already has needs no upload: head
   * moves (compare-and-set) and the answer is 'exists'. Otherwise a session
   * opens and the manifest PUT is presigned with its exact size and digest.
   */
  async startUpload(
    tenant: string,
    storage: string,
    req: StartUploadInput,
  ): Promise<StartUploadResult> {
    const { metadata, blobs, config } = this.deps;
    await metadata.ensureTenant(tenant);
    const existing = await metadata.getVersion(tenant, req.version);
    // A version whose manifest or one of whose packs went missing behind the
    // server's back is pushed like a new one (a repair): the chunks of a
    // missing pack count as not stored, a missing manifest gets a URL again,
    // so the client uploads what was lost and the commit re-points the
    // version. (One stat per push of an existing version: the price of
    // noticing a lost manifest at the one moment it can be healed.)
    const manifestStored =
      existing !== null && (await blobs.stat(manifestKey(tenant, req.version))) !== null;
    const repair =
      existing !== null &&
      (!manifestStored || (await metadata.listMissingVersionPacks(tenant, req.version)).length > 0);
    if (existing && !repair) {
      const outcome = await metadata.recordExistingVersion({
        tenant,
        storage,
        versionId: req.version,
        expectedHead: req.parent,
        onConflict: req.onConflict,
        message: req.message,
        archiveFormats: config.archiveFormats,
      });
      await enqueueMaterialize(this.deps, tenant, req.version);
      const version = await this.versions.summaryOf(tenant, storage, req.version, outcome.seq);
      return { status: 'exists', version, unchanged: outcome.seq === null };
    }
    // Fail fast on a moved head instead of after the whole upload; the
    // commit re-checks with compare-and-set, this is only a courtesy.
    if (req.onConflict === 'fail') {
      const current = await metadata.getStorage(tenant, storage);
      const head = current?.head ?? null;
      if (head !== req.parent) {
        throw new TroveError('head_conflict', `head of ${storage} is ${head ?? 'empty'}`, {
          storage,
          head,
          expected: req.parent,
        });
      }
    }
    const session = await metadata.createSession({
      tenant,
      storage,
      versionId: req.version,
      manifestSize: req.manifestSize,
      expectedHead: req.parent,
      onConflict: req.onConflict,
      message: req.message,
      expiresAt: new Date(Date.now() + config.sessionTtlSeconds * 1000),
    });
    // A committed version's manifest key is never presigned again (a backend
    // that ignores If-None-Match would let the PUT replace it); only a
    // manifest that is itself gone is uploaded anew.
    if (repair && manifestStored) {
      return {
        status: 'open',
        session: session.id,
        expiresAt: session.expiresAt.toISOString(),
      };
    }
    const manifestUpload = await blobs.presignPut(manifestKey(tenant, req.version), {
      size: req.manifestSize,
      sha256: req.version,
      expiresInSeconds: config.urlTtlSeconds,
    });
    const deltaUpload = await this.presignDelta(tenant, session.id, req);
    return {
      status: 'open',
      session: session.id,
      expiresAt: session.expiresAt.toISOString(),
      manifestUpload,
      ...(deltaUpload ? { deltaUpload } : {}),
    };
  }

  /**
   * Presigns the delta PUT when its base is a version this tenant has. An
   * unknown base is not an error: the answer simply has no deltaUpload and
   * the client sends the whole manifest (one round trip either way). The
   * commit re-reads the base from the delta itself, so nothing is recorded.
   */
  private async presignDelta(tenant: string, sessionId: string, req: StartUploadInput) {
    const delta = req.manifestDelta;
    if (delta === undefined || delta.base === req.version) return undefined;
    if (!(await this.deps.metadata.getVersion(tenant, delta.base))) return undefined;
    return this.deps.blobs.presignPut(deltaKey(tenant, sessionId), {
      size: delta.size,
      sha256: delta.sha256,
      expiresInSeconds: this.deps.config.urlTtlSeconds,
    });
  }

  /** The digests (deduplicated, in request order) this tenant has not stored. */
  async missingChunks(
    tenant: string,
    sessionId: string,
    digests: Digest[],
  ): Promise<MissingChunks> {
    await requireOpenSession(this.deps, tenant, sessionId);
    const unique = [...new Set(digests)];
    if (unique.length === 0) return { missing: [] };
    const found = await this.deps.metadata.findChunks(tenant, unique);
    // A chunk in a missing pack is indexed but its bytes are gone: ask for it again.
    const have = new Set(found.filter((c) => c.packState !== 'missing').map((c) => c.digest));
    return { missing: unique.filter((d) => !have.has(d)) };
  }

  /**
   * Records the packs in the session (its GC lease) and presigns one PUT per
   * pack. A pack that is already live is immutable and was verified when it
   * was first recorded: it is never presigned, verified or deleted again on
   * behalf of a session (that is how one bad request could once delete data
   * other versions use), and the answer lists it as `present`. A declared size
   * that disagrees with the stored pack is refused and nothing changes.
   */
  async presignPacks(
    tenant: string,
    sessionId: string,
    packs: { id: Digest; size: number }[],
  ): Promise<PackUploads> {
    await requireOpenSession(this.deps, tenant, sessionId);
    const byId = new Map<Digest, number>();
    for (const p of packs) {
      const size = byId.get(p.id);
      if (size !== undefined && size !== p.size) {
        throw new TroveError('invalid_request', `pack ${p.id} is listed with two sizes`);
      }
      byId.set(p.id, p.size);
    }
    const present: Digest[] = [];
    for (const stored of await this.deps.metadata.getPacks(tenant, [...byId.keys()])) {
      if (stored.state !== 'live') continue;
      if (stored.size !== byId.get(stored.id)) {
        throw new TroveError(
          'size_mismatch',
          `pack ${stored.id} is stored with ${stored.size} bytes, declared ${byId.get(stored.id)}`,
          { pack: stored.id },
        );
      }
      present.push(stored.id);
      byId.delete(stored.id);
    }
    const list = [...byId].map(([id, size]) => ({ id, size }));
    await this.deps.metadata.addSessionPacks(tenant, sessionId, list);
    const uploads = await Promise.all(
      list.map(async (p) => ({
        pack: p.id,
        request: await this.deps.blobs.presignPut(packKey(tenant, p.id), {
          size: p.size,
          sha256: p.id,
          expiresInSeconds: this.deps.config.urlTtlSeconds,
        }),
      })),
    );
    return { uploads, present };
  }
}
