import type {StateChanges, StateDocument} from '../../../engine/model/state.js'
import {StateError, type LockInfo} from '../../../engine/state/errors.js'
import type {StateStore} from '../../../engine/state/store.js'

/**
 * A store that keeps what it was given, and fails the writes it is told to fail (as a pg store that lost its lock).
 * With `journal`, it also takes checkpoints (`appended`), counting them among the attempts.
 */
export class ScriptedStore implements StateStore {
  readonly location = 'scripted'
  readonly written: StateDocument[] = []
  readonly appended: StateChanges[] = []
  append?: (changes: StateChanges) => Promise<void>
  canAppend?: () => boolean
  constructor(
    private readonly fails: (attempt: number) => Error | undefined,
    journal = false,
  ) {
    if (journal) {
      this.canAppend = () => true
      this.append = async (changes) => {
        const failure = this.fails(++this.attempts)
        if (failure) throw failure
        this.appended.push(structuredClone(changes))
      }
    }
  }
  private attempts = 0
  async read(): Promise<StateDocument | null> {
    return this.written.at(-1) ?? null
  }
  async write(doc: StateDocument): Promise<void> {
    const failure = this.fails(++this.attempts)
    if (failure) throw failure
    this.written.push(structuredClone(doc))
  }
  async lock(): Promise<LockInfo> {
    throw new Error('not used')
  }
  async unlock(): Promise<void> {}
  async forceUnlock(): Promise<LockInfo> {
    throw new Error('not used')
  }
  async close(): Promise<void> {}
}

export const lockLost = () => new StateError('the lock 1234 on state at scripted was lost; refusing to write', 'lock-lost')
