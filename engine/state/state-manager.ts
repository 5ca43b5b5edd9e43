import type {Address} from '../model/address.js'
import type {ResourceState, StateChanges, StateDocument} from '../model/state.js'
import type {StateStore} from './store.js'

/** What the store holds for an address, as far as this manager knows: the fields a recovery needs. */
export interface RecordedEntry {
  status: ResourceState['status']
  remote_id?: string
  out_request_no: string
}

/**
 * A card whose latest change is in memory but not in the store, because the writes that carried it failed.
 * `recorded` is what the store holds for it (null: nothing); `current` is what the change made it (null: removed).
 */
export interface UnrecordedEntry {
  address: Address
  recorded: RecordedEntry | null
  current: RecordedEntry | null
}

/**
 * Holds the state document in memory during an apply and persists it after every remote change.
 *
 * Parallel workers mutate the document and then `await persist(address)`, naming the addresses whose entries (in
 * `resources` and `generations`) they changed. Writes never overlap: a persist requested while a write is in flight
 * joins the next write, which takes the entries of every address named before it started. When persist resolves,
 * the caller's mutation is on disk.
 *
 * A write is a checkpoint (`store.append`: only the named entries, so its cost does not grow with the state) when
 * the store can append, and the whole document otherwise: with a store without a journal, for the first write of a
 * run whose store found a journal left by a crash, after a failed write (what it carried may not be on disk), and
 * for `persist()` without addresses. `compact()` folds the journal into the document at the end.
 *
 * `doc.serial` is always the serial of the last write that succeeded (the one a summary may report): each write
 * sends its own serial, and the document takes it only once the store has accepted it.
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
  /** Addresses changed since the last write started. */
  private readonly dirty = new Set<Address>()
  /** Media records (by sha256) added since the last write started. */
  private readonly dirtyMedia = new Set<string>()
  /** The next write carries the whole document. */
  private wholeNext = false
  /** Addresses named since the last write that carried them succeeded (those of failed writes stay here). */
  private readonly pending = new Set<Address>()
  /**
   * What the store holds for each address: taken from the document as read, then as each successful write left it.
   * Only these fields: a recovery needs the card id and the out_request_no.
   */
  private readonly recorded: Map<Address, RecordedEntry | null>

  constructor(
    private readonly store: StateStore,
    readonly doc: StateDocument,
  ) {
    this.attempted = doc.serial
    this.recorded = new Map(Object.entries(doc.resources).map(([a, r]) => [a, summarize(r)]))
  }

  /** How many writes succeeded. */
  get writes(): number {
    return this.written
  }

  /**
   * Why the last write failed (e.g. StateError `lock-lost`), or undefined when it succeeded. A later write that
   * succeeds clears it: it writes the whole document, so it records every mutation the failed write carried.
   */
  get writeFailure(): Error | undefined {
    return this.failure
  }

  /** Persist the entries of `addresses`; without addresses, the whole document. */
  persist(...addresses: Address[]): Promise<void> {
    if (addresses.length === 0) this.wholeNext = true
    for (const a of addresses) {
      this.dirty.add(a)
      this.pending.add(a)
    }
    return this.schedule()
  }

  /**
   * While the last write failed: the addresses whose latest change the store does not hold, with what it holds and
   * what the change made them (sorted by address); empty when the last write succeeded.
   */
  unrecorded(): UnrecordedEntry[] {
    if (!this.failure) return []
    const out: UnrecordedEntry[] = []
    for (const address of [...this.pending].sort()) {
      const recorded = this.recorded.get(address) ?? null
      const current = summarize(this.doc.resources[address])
      out.push({address, recorded, current})
    }
    return out
  }

  /** Persist the media records (`doc.media`) of these sha256 keys: an upload is recorded as soon as it returns. */
  persistMedia(...keys: string[]): Promise<void> {
    for (const k of keys) this.dirtyMedia.add(k)
    return this.schedule()
  }

  private schedule(): Promise<void> {
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

  /**
   * Fold the store's journal into its document (compaction), keeping the serial. Nothing to do after a failed write
   * (the document in memory may hold changes the store never accepted; the journal stays, and the next run folds
   * it) or for a store without a journal.
   */
  async compact(): Promise<void> {
    await this.inFlight?.catch(() => {})
    if (this.failure || !this.store.compact) return
    await this.store.compact(this.doc)
  }

  private startWrite(): Promise<void> {
    const serial = ++this.attempted
    const whole = this.wholeNext || !this.store.append || !this.store.canAppend?.()
    // What this write carries, to be marked as recorded when it succeeds: every address named so far (a whole write
    // snapshots the document now; a checkpoint takes the dirty entries now, and failed ones were carried before).
    const carried = new Map([...this.pending].map((a) => [a, summarize(this.doc.resources[a])] as const))
    let write: Promise<void>
    if (whole) {
      const snapshot = structuredClone(this.doc)
      snapshot.serial = serial
      this.dirty.clear()
      this.dirtyMedia.clear()
      this.wholeNext = false
      write = this.store.write(snapshot)
    } else {
      write = this.store.append!(this.takeChanges(serial))
    }
    const done = write
      .then(
        () => {
          this.doc.serial = serial
          this.written += 1
          this.failure = undefined
          for (const [a, entry] of carried) {
            this.recorded.set(a, entry)
            // Named again since this write started: the newer change is still to be written.
            if (!this.dirty.has(a)) this.pending.delete(a)
          }
        },
        (e: unknown) => {
          this.failure = e instanceof Error ? e : new Error(String(e))
          this.wholeNext = true
          throw e
        },
      )
      .finally(() => {
        if (this.inFlight === done) this.inFlight = null
      })
    this.inFlight = done
    return done
  }

  /** The entries of the dirty addresses (and media records), copied now: workers go on mutating the document while the write runs. */
  private takeChanges(serial: number): StateChanges {
    const changes: StateChanges = {lineage: this.doc.lineage, serial, resources: {}, generations: {}}
    for (const a of this.dirty) {
      const r = this.doc.resources[a]
      changes.resources[a] = r === undefined ? null : structuredClone(r)
      changes.generations[a] = this.doc.generations[a] ?? null
    }
    this.dirty.clear()
    for (const k of this.dirtyMedia) {
      const m = this.doc.media?.[k]
      if (m) (changes.media ??= {})[k] = structuredClone(m)
    }
    this.dirtyMedia.clear()
    return changes
  }
}

function summarize(r: ResourceState | undefined): RecordedEntry | null {
  if (!r) return null
  return {status: r.status, ...(r.remote_id ? {remote_id: r.remote_id} : {}), out_request_no: r.out_request_no}
}
