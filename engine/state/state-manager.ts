import type {StateDocument} from '../model/state.js'
import type {StateStore} from './store.js'

/**
 * Holds the state document in memory during an apply and persists it after every remote change.
 *
 * Parallel workers mutate the document and then `await persist()`. Writes never overlap: a persist requested while
 * a write is in flight joins the next write, which snapshots the document when it starts and so includes every
 * mutation made before the caller asked. When persist resolves, the caller's mutation is on disk.
 */
export class StateManager {
  private inFlight: Promise<void> | null = null
  private queued: Promise<void> | null = null

  constructor(
    private readonly store: StateStore,
    readonly doc: StateDocument,
  ) {}

  persist(): Promise<void> {
    if (this.queued) return this.queued
    if (!this.inFlight) return this.startWrite()
    const next = this.inFlight.then(
      () => {
        this.queued = null
        return this.startWrite()
      },
      () => {
        this.queued = null
        return this.startWrite()
      },
    )
    this.queued = next
    return next
  }

  private startWrite(): Promise<void> {
    this.doc.serial += 1
    const snapshot = structuredClone(this.doc)
    const write = this.store.write(snapshot).finally(() => {
      if (this.inFlight === write) this.inFlight = null
    })
    this.inFlight = write
    return write
  }
}
