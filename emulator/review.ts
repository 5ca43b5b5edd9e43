import type {CardRecord} from './store.js'

/**
 * Review (审核) of membercard-open templates. F: the GET response's `status` is NOT_APPROVE 待审核 | APPROVE_FAIL
 * 审核不通过 | APPROVED 审核通过,会员卡可以正常投放 | DELETED (openapi Enumerations MemberCardStatus; PWX doc 4012547650).
 * I (the reading, not documented): a created or PATCHed template is NOT_APPROVE until reviewed. The GET
 * response documents no reason field, so a failure's reason is kept for the admin routes only and never returned.
 * The brand partner family documents no review (its `state` is CARD_EFFECTIVE|CARD_INVALID): none is emulated.
 */

/** Milliseconds a submitted template waits before it is approved; 0 = at once; `manual` = until the admin decides. */
export type ReviewDelay = number | 'manual'

/** What the record keeps of a pending or failed review (persisted with it). */
export interface ReviewRecord {
  /** Emulator clock (ms) at which a pending review is approved; absent under manual review. */
  due?: number
  /** Why review failed (admin only: GET has no field for it). */
  reason?: string
}

/** Submit the card for review, at create and after a PATCH: NOT_APPROVE, or APPROVED at once with no delay. */
export function submitForReview(record: Pick<CardRecord, 'card' | 'review'>, now: number, delay: ReviewDelay): void {
  if (delay === 0) {
    record.card['status'] = 'APPROVED'
    delete record.review
    return
  }
  record.card['status'] = 'NOT_APPROVE'
  record.review = delay === 'manual' ? {} : {due: now + delay}
}

/**
 * Approve a pending review whose delay has run out. Called whenever a card is looked at (GET, list, admin), so the
 * status moves with the clock without a timer. Returns whether the card changed (the caller persists it).
 */
export function settleReview(record: CardRecord, now: number): boolean {
  const due = record.review?.due
  if (record.family !== 'membercard-open' || record.card['status'] !== 'NOT_APPROVE' || due === undefined || now < due) return false
  record.card['status'] = 'APPROVED'
  delete record.review
  return true
}

/** The admin's verdict on a card's review. */
export type ReviewVerdict = {result: 'approve'} | {result: 'fail'; reason: string}

export class ReviewError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
    this.name = 'ReviewError'
  }
}

export function parseVerdict(body: unknown): ReviewVerdict {
  const b = body as Record<string, unknown> | null
  if (b?.['result'] === 'approve') return {result: 'approve'}
  if (b?.['result'] === 'fail' && typeof b['reason'] === 'string' && b['reason'] !== '') return {result: 'fail', reason: b['reason']}
  throw new ReviewError(400, 'the body must be {"result": "approve"} or {"result": "fail", "reason": "…"}')
}

/**
 * Decide a membercard-open card's review, whatever its status (a person in the review team can also revisit a
 * decision). update_time is left alone: a review does not edit the template [invented]. A deleted card is refused.
 */
export function decideReview(record: CardRecord, verdict: ReviewVerdict): void {
  if (record.family !== 'membercard-open') {
    throw new ReviewError(400, `card ${record.card_id} is a ${record.family} card: only membercard-open templates are reviewed`)
  }
  if (record.card['status'] === 'DELETED') throw new ReviewError(400, `card ${record.card_id} is deleted`)
  if (verdict.result === 'approve') {
    record.card['status'] = 'APPROVED'
    delete record.review
  } else {
    record.card['status'] = 'APPROVE_FAIL'
    record.review = {reason: verdict.reason}
  }
}
