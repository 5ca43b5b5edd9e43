import type {StateDocument} from '../model/state.js'
import type {LockInfo} from './errors.js'

/**
 * Where state lives. Nothing above this interface knows about files or databases.
 *
 * Invariants every store keeps:
 * - `read` returns a document that passed schema validation, or null when there is no state yet; it never repairs.
 * - `write` replaces the document atomically: a crash at any instant leaves either the old or the new document,
 *   and the previous document is kept as a backup. It refuses to overwrite a document of another lineage or one it
 *   cannot read.
 * - `lock` is exclusive across processes and hosts that share the store.
 */
export interface StateStore {
  /** Human description of where the state is, for messages. */
  readonly location: string
  read(): Promise<StateDocument | null>
  write(doc: StateDocument): Promise<void>
  /** Take the lock or throw LockHeldError naming the holder, waiting up to timeoutMs. Returns the lock taken. */
  lock(operation: string, timeoutMs: number): Promise<LockInfo>
  unlock(id: string): Promise<void>
  /** Remove a lock left by a run that is gone; the id must match the holder's. */
  forceUnlock(id: string): Promise<LockInfo>
  close(): Promise<void>
}
