/** Phases of a push, in order. */
export type PushPhase = 'scan' | 'hash' | 'upload' | 'commit';

/** A progress event of a push. */
export interface PushProgress {
  /** Current phase. */
  phase: PushPhase;
  /**
   * Work done in this phase: bytes hashed ('hash'), raw bytes packed and
   * uploaded ('upload'), packs verified ('commit'); 0 while scanning.
   */
  done: number;
  /** Total work of this phase in the same unit (0 when unknown). */
  total: number;
  /** Files found ('scan') or hashed ('hash'); packs uploaded ('upload'). */
  files: number;
}
