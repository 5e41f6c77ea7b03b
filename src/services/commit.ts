import { TroveError } from '../errors.js';
import type { CommitOutcome, CommitProgress, SessionRecord } from '../ports/metadata-store.js';
import { rebuildManifestFromDelta } from './commit-delta.js';
import { checkManifest, type ManifestCheck, readManifestHeader } from './commit-manifest.js';
import type { ServiceDeps } from './deps.js';
import { enqueueMaterialize } from './materialize-jobs.js';
import type { CommitResult } from './results.js';
import { requireOpenSession } from './upload.js';
import { verifyUploadedPack } from './verify-pack.js';
import { VersionService } from './versions.js';

/** A merged manifest larger than this ends the commit call (the checks then start afresh). */
const MERGE_STEP_BYTES = 16 * 1024 * 1024;

/**
 * The commit of a push, resumable with bounded work per call (invariant 4):
 * phase 1 verifies pending packs until the byte budget is spent, phase 2
 * checks manifest entries against the index until the entry budget is spent,
 * then one transaction makes the version visible. Each call either finishes,
 * answers 'verifying' with progress, or fails with a precise error.
 */
export class CommitService {
  private readonly versions: VersionService;

  constructor(private readonly deps: ServiceDeps) {
    this.versions = new VersionService(deps);
  }

  /** Advances (or completes) the commit of a session. Idempotent after success. */
  async commit(tenant: string, sessionId: string): Promise<CommitResult> {
    try {
      return await this.advance(tenant, sessionId);
    } catch (err) {
      this.deps.events?.commitFailed?.(err);
      throw err;
    }
  }

  private async advance(tenant: string, sessionId: string): Promise<CommitResult> {
    const existing = await this.deps.metadata.getSession(tenant, sessionId);
    if (existing?.tenant === tenant && existing.state === 'committed' && existing.outcome) {
      return this.committed(tenant, existing);
    }
    const session = await requireOpenSession(this.deps, tenant, sessionId);

    const packsDone = await this.verifyPacks(tenant, session);
    if (!packsDone) return this.progress(tenant, session);

    // A delta push stores its manifest here; a large merge is this call's whole step.
    const merged = await rebuildManifestFromDelta(this.deps, tenant, session);
    if (merged && session.manifestSize > MERGE_STEP_BYTES) return this.progress(tenant, session);

    const check = await this.checkOnce(tenant, session);
    if (!check.done) {
      return this.progress(tenant, session, check.entriesChecked, check.header.entries);
    }

    const bytesUploaded = await this.sumPacks(tenant, sessionId);
    const outcome = await this.deps.metadata.finalizeCommit({
      tenant,
      sessionId,
      version: {
        id: session.versionId,
        manifestSize: session.manifestSize,
        size: check.header.size,
        files: check.header.files,
        entries: check.header.entries,
        chunkRefs: check.header.chunkRefs,
      },
      archiveFormats: this.deps.config.archiveFormats,
      bytesUploaded,
    });
    this.deps.events?.commitSucceeded?.({
      created: outcome.created,
      logicalBytes: check.header.size,
      uploadedBytes: bytesUploaded,
    });
    await enqueueMaterialize(this.deps, tenant, outcome.versionId);
    return this.answer(tenant, outcome);
  }

  /**
   * checkManifest, except that a missing_chunks failure is stored on the
   * session and answered again, without reading the manifest or querying the
   * index, while the session's verified packs and progress are unchanged: the
   * same inputs give the same answer, so a client repeating an empty POST
   * costs two small queries. A pack verified in this session invalidates it;
   * chunks indexed meanwhile by another session are seen once this session's
   * packs change (the client uploads what the error listed) or a new session.
   */
  private async checkOnce(tenant: string, session: SessionRecord): Promise<ManifestCheck> {
    const packsVerified = (await this.deps.metadata.sessionPackTotals(tenant, session.id)).verified;
    const stored = session.commitFailure;
    if (
      stored &&
      stored.packsVerified === packsVerified &&
      sameProgress(stored.progress, session.progress)
    )
      throw new TroveError(stored.code, stored.message, stored.details);
    try {
      return await checkManifest(this.deps, tenant, session);
    } catch (err) {
      if (err instanceof TroveError && err.code === 'missing_chunks') {
        // Computed at `packsVerified`; validation may have moved progress to manifestValid.
        const progress = { ...session.progress, manifestValid: true };
        await this.deps.metadata.saveCommitFailure(tenant, session.id, {
          code: 'missing_chunks',
          message: err.message,
          details: err.details ?? {},
          packsVerified,
          progress,
        });
      }
      throw err;
    }
  }

  /** Verifies pending packs in id order; true when none is left pending. */
  private async verifyPacks(tenant: string, session: SessionRecord): Promise<boolean> {
    const budget = this.deps.config.commitBudgetBytes;
    let spent = 0;
    for (;;) {
      const pending = await this.deps.metadata.listSessionPacks(tenant, session.id, {
        state: 'pending',
        limit: 100,
      });
      if (pending.length === 0) return true;
      const stored = await this.deps.metadata.getPacks(
        tenant,
        pending.map((p) => p.id),
      );
      const live = new Map(stored.filter((p) => p.state === 'live').map((p) => [p.id, p.size]));
      for (const pack of pending) {
        // A pack that became live since it was declared (another session
        // verified the same bytes) is immutable: taken as is, never re-read.
        // A declared size that disagrees goes through verification, which
        // rejects it without touching the object.
        if (
          live.get(pack.id) === pack.size &&
          (await this.deps.metadata.adoptLivePack(tenant, session.id, pack.id))
        )
          continue;
        // Always verify at least one pack per call so progress is guaranteed.
        if (spent > 0 && spent + pack.size > budget) return false;
        const chunks = await verifyUploadedPack(this.deps, tenant, pack);
        await this.deps.metadata.recordVerifiedPack(tenant, session.id, pack, chunks);
        spent += pack.size;
      }
    }
  }

  private async progress(
    tenant: string,
    session: SessionRecord,
    entriesChecked = session.progress.entriesChecked,
    entriesTotal?: number,
  ): Promise<CommitResult> {
    const totals = await this.deps.metadata.sessionPackTotals(tenant, session.id);
    const packsTotal = totals.packs;
    const packsVerified = totals.verified;
    return {
      state: 'verifying',
      packsVerified,
      packsTotal,
      entriesChecked,
      entriesTotal: entriesTotal ?? (await this.entriesTotal(tenant, session)),
    };
  }

  /** The manifest's entry count when known (it is in the first line), else 0. */
  private async entriesTotal(tenant: string, session: SessionRecord): Promise<number> {
    if (!session.progress.manifestValid) return 0;
    return (await readManifestHeader(this.deps, tenant, session.versionId))?.entries ?? 0;
  }

  private async sumPacks(tenant: string, sessionId: string): Promise<number> {
    return (await this.deps.metadata.sessionPackTotals(tenant, sessionId)).bytes;
  }

  private async committed(tenant: string, session: SessionRecord): Promise<CommitResult> {
    const outcome = session.outcome;
    if (!outcome) throw new TroveError('internal', 'committed session without outcome');
    return this.answer(tenant, outcome);
  }

  /** The committed answer for a commit outcome: the same for the first call and every repeat. */
  private async answer(tenant: string, outcome: CommitOutcome): Promise<CommitResult> {
    const version = await this.versions.summaryOf(
      tenant,
      outcome.storage,
      outcome.versionId,
      outcome.seq,
    );
    return {
      state: 'committed',
      version,
      created: outcome.created,
      previousHead: outcome.previousHead,
    };
  }
}

function sameProgress(a: CommitProgress, b: CommitProgress): boolean {
  return (
    a.manifestValid === b.manifestValid &&
    a.entriesChecked === b.entriesChecked &&
    (a.refsChecked ?? 0) === (b.refsChecked ?? 0)
  );
}
