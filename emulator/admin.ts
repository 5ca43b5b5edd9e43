import type {CardRecord, CardStore, MediaFormat, MediaRecord} from './store.js'
import {MEDIA_PREFIX, mediaFileName} from './media.js'
import {formatTime} from './time.js'
import {DEFAULT_TOTAL_QUANTITY} from './membercard-open.js'
import {decideReview, settleReview, type ReviewRecord, type ReviewVerdict} from './review.js'

/**
 * Changes "behind cardform's back", as a person in the merchant console would (the admin route). They skip
 * every API rule, but not the server-computed fields: card_id, create_time and remain_quantity cannot be set, and
 * update_time is bumped by every change.
 */

export class AdminError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
    this.name = 'AdminError'
  }
}

/** What the admin routes show: the whole record, fields hidden from GET and the rights included. */
export interface AdminCardView {
  family: CardRecord['family']
  card_id: string
  owner_mchid: string
  card: Record<string, unknown>
  rights?: Record<string, unknown>
  /** A pending review's due time (emulator clock, ms) or a failed review's reason, which GET never shows. */
  review?: ReviewRecord
}

/** The record as the admin sees it at `now` (a pending review whose delay ran out shows approved). */
export function adminCardView(r: CardRecord, now: number): AdminCardView {
  settleReview(r, now)
  const view: AdminCardView = {family: r.family, card_id: r.card_id, owner_mchid: r.owner_mchid, card: structuredClone(r.card)}
  if (r.rights) view.rights = structuredClone(r.rights)
  if (r.review) view.review = structuredClone(r.review)
  return view
}

/** Approve a card, or fail it with a reason, as WeChat Pay's reviewers would (review.ts). */
export function reviewCard(store: CardStore, cardId: string, verdict: ReviewVerdict, now: number): AdminCardView {
  const record = store.get(cardId)
  if (!record) throw new AdminError(404, `no card ${cardId}`)
  decideReview(record, verdict)
  store.touch(record)
  return adminCardView(record, now)
}

/** One uploaded image, as GET /__admin/media lists it (the bytes themselves are at `media_url`). */
export interface AdminMediaView {
  sha256: string
  format: MediaFormat
  /** Size in bytes. */
  bytes: number
  media_url: string
}

export function adminMediaView(r: MediaRecord, baseUrl: string): AdminMediaView {
  return {sha256: r.sha256, format: r.format, bytes: r.bytes.length, media_url: `${baseUrl}${MEDIA_PREFIX}${mediaFileName(r)}`}
}

const SERVER_COMPUTED = ['card_id', 'create_time', 'update_time', 'remain_quantity']

/**
 * Merge `patch` into the card's top-level fields; a JSON null removes a field. Two reserved keys reach outside the
 * card: `rights` replaces the stored rights block and `owner_mchid` the creating merchant.
 */
export function mutateCard(store: CardStore, cardId: string, patch: unknown, now: number): AdminCardView {
  const record = store.get(cardId)
  if (!record) throw new AdminError(404, `no card ${cardId}`)
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) throw new AdminError(400, 'the patch must be a JSON object')
  const {rights, owner_mchid, ...fields} = patch as Record<string, unknown>
  for (const key of SERVER_COMPUTED) {
    if (key in fields) throw new AdminError(400, `${key} is computed by the server and cannot be set`)
  }
  const card = {...record.card}
  for (const [key, value] of Object.entries(fields)) {
    if (value === null) delete card[key]
    else card[key] = structuredClone(value)
  }
  if (record.family === 'membercard-open') {
    if (card['code_mode'] === 'SYSTEM_ALLOCATE') {
      card['total_quantity'] ??= DEFAULT_TOTAL_QUANTITY
      card['remain_quantity'] = card['total_quantity']
    } else card['remain_quantity'] = 0
  }
  if (record.family !== 'aggregator') card['update_time'] = formatTime(now)
  record.card = card
  if (rights !== undefined) {
    if (rights === null) delete record.rights
    else record.rights = structuredClone(rights) as Record<string, unknown>
  }
  if (typeof owner_mchid === 'string') store.changeOwner(record, owner_mchid)
  store.touch(record)
  return adminCardView(record, now)
}
