import type {StateChanges, StateDocument} from '../model/state.js'
import type {LockInfo} from './errors.js'

/**
 * Where state lives. Nothing above this interface knows about files or databases.
 *
 * Invariants every store keeps:
 * - `read` returns a document that passed schema validation, or null when there is no state yet; it never repairs.
 *   For a store with a journal, the document is the stored document with its journal folded in.
 * - `write` replaces the document atomically: a crash at any instant leaves either the old or the new document,
 *   and the previous document is kept as a backup. It refuses to overwrite a document of another lineage or one it
 *   cannot read. It drops any journal (the new document holds everything).
 * - `append` records a checkpoint durably at a cost that does not grow with the state; a crash at any instant leaves
 *   the state before or after it. `read` sees it.
 * - `lock` is exclusive across processes and hosts that share the store.
 */
export interface StateStore {
  /** Human description of where the state is, for messages. */
  readonly location: string
  read(): Promise<StateDocument | null>
  write(doc: StateDocument): Promise<void>
  /**
   * True when `append` may be called now: this store has read or written the state (so it checked it and knows the
   * document a journal continues), no journal left by an earlier run is pending, and no append failed since the
   * last write. Otherwise the checkpoint is a `write` of the whole document. A store without `append` is always
   * written whole.
   */
  canAppend?(): boolean
  append?(changes: StateChanges): Promise<void>
  /**
   * Fold the journal into the document (compaction): `doc` is the state as last read or written, with the same
   * serial, which does not change. Does nothing when there is no journal. The previous document is kept as a backup.
   */
  compact?(doc: StateDocument): Promise<void>
  /** Take the lock or throw LockHeldError naming the holder, waiting up to timeoutMs. Returns the lock taken. */
  lock(operation: string, timeoutMs: number): Promise<LockInfo>
  unlock(id: string): Promise<void>
  /** Remove a lock left by a run that is gone; the id must match the holder's. */
  forceUnlock(id: string): Promise<LockInfo>
  close(): Promise<void>
}
