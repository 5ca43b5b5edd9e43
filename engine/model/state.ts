import type {Address} from './address.js'
import type {MediaRecord} from './image.js'

/**
 * The state document: what cardform applied last time, and what the API cannot tell it (card ids, the rights
 * block, out_request_no). Versioned, schema-checked on every read (schemas/state.schema.json), written atomically
 * after every remote change.
 *
 * `serial` grows by one on every write; `lineage` is fixed when the state is created. A saved plan records both and
 * apply refuses it when they moved.
 */
export const STATE_VERSION = 1

export interface StateDocument {
  version: number
  serial: number
  lineage: string
  cardform_version: string
  /** Keyed by address. */
  resources: Record<Address, ResourceState>
  /**
   * How many cards each address has had. out_request_no is derived from it, so a card re-created after a deletion
   * never reuses the key of the card that was deleted (the API would answer with the old card).
   */
  generations: Record<Address, number>
  /** Images uploaded from local files, keyed by sha256 (absent until the first upload). */
  media?: Record<string, MediaRecord>
}

export interface ResourceState {
  kind: string
  name: string
  /**
   * `creating`: a create was journaled (out_request_no and body written before the POST) and its outcome is unknown;
   * the next apply repeats the POST with the same key and body, which the API answers with the same card.
   * `created`: the card exists with `remote_id`.
   */
  status: 'creating' | 'created'
  remote_id?: string
  out_request_no: string
  generation: number
  /** The spec cardform applied last time (for a `creating` card: the spec it is creating). */
  applied: Record<string, unknown>
  /** Values GET cannot return (the rights block), as last applied. */
  write_only: Record<string, unknown>
  /** The create body journaled before the POST, so a resumed create sends the identical bytes. */
  create_body?: Record<string, unknown>
  /**
   * A card being replaced: the new card is created first, then this old one is removed. Set from the moment the
   * replacement's create is journaled until the old card is gone, so an interrupted replacement still removes it.
   */
  deposed?: string
  /** sha256 of the live card as last read or written. */
  live_fingerprint?: string
  /**
   * One-way fields ever seen switched on (`{'rights.show_bonus': true}`), kept for ever: the API never allows switching
   * them off, so a spec that later sets them off again must fail at plan, even after the block was removed.
   */
  one_way?: Record<string, unknown>
  /** metadata.lifecycle as last applied, so it still holds once the spec is removed from the project. */
  lifecycle?: {prevent_destroy?: boolean; destroy?: boolean}
  /** When this entry was last written. */
  updated_at: string
}

export function emptyState(lineage: string, version: string): StateDocument {
  return {version: STATE_VERSION, serial: 0, lineage, cardform_version: version, resources: {}, generations: {}}
}

/**
 * One checkpoint of an apply: the entries of the addresses it changed and the serial it brings the state to. Stores
 * record it at a cost that does not grow with the state (a journal line, a journal row) and fold their journal into
 * the document later (compaction). `null` removes the entry.
 */
export interface StateChanges {
  lineage: string
  serial: number
  resources: Record<Address, ResourceState | null>
  generations: Record<Address, number | null>
  /** Media records added by this checkpoint (never removed: an uploaded URL stays valid). */
  media?: Record<string, MediaRecord>
}
