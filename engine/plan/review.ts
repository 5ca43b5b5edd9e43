import type {Address} from '../model/address.js'
import {compareAddresses} from '../model/address.js'
import type {CardReview, ReviewStatus} from '../model/plan.js'
import type {StateDocument} from '../model/state.js'
import type {KindWire, LiveRead} from './compute-plan.js'

/**
 * Review (审核) status of live cards, read through the kind schema's x-cardform-review declaration: which field holds
 * it and which of its values mean in review, failed, approved. Pure. A status is reported, never diffed: it is not
 * drift and never a change (the field is also server-computed, so the diff never sees it).
 */

/** What a live card's review field says; undefined when its kind is not reviewed or the value is none of the three. */
export function reviewStatusOf(wire: KindWire | undefined, live: Record<string, unknown>): {status: ReviewStatus; api_status: string} | undefined {
  const review = wire?.review
  if (!review) return undefined
  let value: unknown = live
  for (const key of review.path.split('.')) value = (value as Record<string, unknown> | undefined)?.[key]
  if (typeof value !== 'string') return undefined
  if (review.pending.includes(value)) return {status: 'in-review', api_status: value}
  if (review.failed.includes(value)) return {status: 'failed', api_status: value}
  if (review.approved.includes(value)) return {status: 'approved', api_status: value}
  return undefined // e.g. DELETED: the card is gone, which refresh reports on its own
}

/** The review status of every card in `live` whose kind is reviewed, in address order. */
export function collectReviews(
  state: StateDocument | null,
  live: ReadonlyMap<Address, LiveRead>,
  wires: ReadonlyMap<string, KindWire>,
): CardReview[] {
  const out: CardReview[] = []
  for (const [address, read] of live) {
    const entry = state?.resources[address]
    if (read.status !== 'found' || !entry?.remote_id) continue
    const review = reviewStatusOf(wires.get(entry.kind), read.object)
    if (review) out.push({address, kind: entry.kind, name: entry.name, remote_id: entry.remote_id, ...review})
  }
  return out.sort((a, b) => compareAddresses(a.address, b.address))
}
