import type {StateDocument} from '../model/state.js'
import type {StateStore} from './store.js'

/**
 * Holds the state document in memory during an apply and persists it after every remote change.
 *
 * Parallel workers mutate the document and then `await persist()`. Writes never overlap: a persist requested while
 * a write is in flight joins the next write, which snapshots the document when it starts and so includes every
 * mutation made before the caller asked. When persist resolves, the caller's mutation is on disk.
 *
 * `doc.serial` is always the serial of the last write that succeeded (the one a summary may report): each write
 * sends its own serial in the snapshot, and the document takes it only once the store has accepted it.
 */
export class StateManager {
  private inFlight: Promise<void> | null = null
  private queued: Promise<void> | null = null
  /**
   * The highest serial any write has tried. A failed write may still have landed (a connection lost during the
   * commit), so the next write never reuses its serial: serials only grow.
   */
  private attempted: number
  private written = 0
  private failure: Error | undefined

  constructor(
    private readonly store: StateStore,
    readonly doc: StateDocument,
  ) {
    this.attempted = doc.serial
  }

  /** How many writes succeeded. */
  get writes(): number {
    return this.written
  }

  /**
   * Why the last write failed (e.g. StateError `lock-lost`), or undefined when it succeeded. A later write that
   * succeeds clears it: it snapshots the whole document, so it records every mutation the failed write carried.
   */
  get writeFailure(): Error | undefined {
    return this.failure
  }

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
    const serial = ++this.attempted
    const snapshot = structuredClone(this.doc)
    snapshot.serial = serial
    const write = this.store
      .write(snapshot)
      .then(
        () => {
          this.doc.serial = serial
          this.written += 1
          this.failure = undefined
        },
        (e: unknown) => {
          this.failure = e instanceof Error ? e : new Error(String(e))
          throw e
        },
      )
      .finally(() => {
        if (this.inFlight === write) this.inFlight = null
      })
    this.inFlight = write
    return write
  }
}
