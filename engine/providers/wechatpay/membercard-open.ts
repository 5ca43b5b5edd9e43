import {pathSegment, type WechatPayClient, type WechatPayResponse} from './client.js'
import {UnexpectedResponseError} from './errors.js'

/**
 * membercard-open (会员卡模板, `/v3/marketing/membercard-open`): thin typed wrappers over the client, at the REAL paths
 * and success statuses of reference §1a. Bodies stay plain objects shaped like the API's JSON.
 */

export const MEMBERCARD_OPEN_CARDS = '/v3/marketing/membercard-open/cards'

/** The most records a list page may ask for (reference §5: limit ≤ 20). */
export const MEMBERCARD_OPEN_MAX_LIMIT = 20

/** A card record as the API returns it; fields beyond card_id are kept loose (unknown response keys may appear). */
export type MemberCardRecord = {card_id: string} & Record<string, unknown>

/** Create body: whatever the spec maps to, plus out_request_no, the idempotency key. */
export type MemberCardCreateBody = {out_request_no: string} & Record<string, unknown>

export interface ListPage<T> {
  data: T[]
  total_count: number
  offset: number
  limit: number
}

export interface MemberCardListQuery {
  brand_id?: string
  appid?: string
  /** A PAGE index from 0 ("分页页码,页码从0开始", reference §5), not a record offset. */
  offset?: number
  /** 1..20; 20 when not given. */
  limit?: number
}

export class MembercardOpenApi {
  constructor(private readonly client: WechatPayClient) {}

  /** POST …/cards → 200 with the full record. Retried safely: out_request_no makes a repeat return the same card. */
  async create(body: MemberCardCreateBody): Promise<MemberCardRecord> {
    requireOutRequestNo(body)
    const res = await this.client.request({method: 'POST', path: MEMBERCARD_OPEN_CARDS, body, idempotent: true})
    return expectCreated(res, 'POST', MEMBERCARD_OPEN_CARDS, body.out_request_no)
  }

  /** GET …/cards?brand_id=&appid=&offset=&limit= → one page. */
  async list(query: MemberCardListQuery = {}): Promise<ListPage<MemberCardRecord>> {
    checkLimit(query.limit, MEMBERCARD_OPEN_MAX_LIMIT)
    const res = await this.client.request({
      method: 'GET',
      path: MEMBERCARD_OPEN_CARDS,
      query: {brand_id: query.brand_id, appid: query.appid, offset: query.offset, limit: query.limit ?? MEMBERCARD_OPEN_MAX_LIMIT},
    })
    return expectPage(res, 'GET', MEMBERCARD_OPEN_CARDS)
  }

  /** Every card, page after page (offset counts pages here). */
  async *listAll(query: Omit<MemberCardListQuery, 'offset'> = {}): AsyncGenerator<MemberCardRecord> {
    const limit = query.limit ?? MEMBERCARD_OPEN_MAX_LIMIT
    let seen = 0
    for (let page = 0; ; page++) {
      const res = await this.list({...query, offset: page, limit})
      yield* res.data
      seen += res.data.length
      if (res.data.length < limit || seen >= res.total_count) return
    }
  }

  /** GET …/cards/{card_id} → 200 with the full record (the rights block is never returned). */
  async get(cardId: string): Promise<MemberCardRecord> {
    const path = `${MEMBERCARD_OPEN_CARDS}/${pathSegment(cardId)}`
    const res = await this.client.request({method: 'GET', path})
    return expectCard(res, 'GET', path)
  }

  /** PATCH …/cards/{card_id} → 204. */
  async patch(cardId: string, body: Record<string, unknown>): Promise<void> {
    await this.client.request({method: 'PATCH', path: `${MEMBERCARD_OPEN_CARDS}/${pathSegment(cardId)}`, body})
  }

  /**
   * PATCH …/cards/{card_id}/rights → 204. The seed's legacy page shows POST …/cards with card_id in the body; the
   * partner page, the openapi fragment and wechatpay.im all give this PATCH path (reference §1a).
   */
  async setRights(cardId: string, body: Record<string, unknown>): Promise<void> {
    await this.client.request({method: 'PATCH', path: `${MEMBERCARD_OPEN_CARDS}/${pathSegment(cardId)}/rights`, body})
  }

  /** DELETE …/cards/{card_id} → 204. */
  async delete(cardId: string): Promise<void> {
    await this.client.request({method: 'DELETE', path: `${MEMBERCARD_OPEN_CARDS}/${pathSegment(cardId)}`})
  }
}

export function requireOutRequestNo(body: {out_request_no?: unknown}): void {
  if (typeof body.out_request_no !== 'string' || body.out_request_no === '') {
    throw new TypeError('a create body needs out_request_no: it is the idempotency key that makes retries safe')
  }
}

export function checkLimit(limit: number | undefined, max: number): void {
  if (limit === undefined) return
  if (!(Number.isInteger(limit) && limit >= 1 && limit <= max)) {
    throw new RangeError(`list limit must be an integer from 1 to ${max}, got ${limit}`)
  }
}

/**
 * What a card_id may look like: the documented `pbLatjvWOibDc5-TBnbUk1pD12o0` shape, string(32) (reference §5), with
 * room to spare. It becomes a path segment and the state's remote_id, so anything else (empty, a path) is refused.
 */
const CARD_ID = /^[0-9A-Za-z_-]{1,64}$/

/** A verified response must still be the documented shape before we hand it on. */
export function expectCard(res: WechatPayResponse, method: string, path: string): MemberCardRecord {
  const d = res.data as Record<string, unknown> | undefined
  const problem =
    d === null || typeof d !== 'object' || Array.isArray(d)
      ? 'card_id missing: not an object'
      : d.card_id === undefined
        ? 'card_id missing'
        : typeof d.card_id !== 'string'
          ? `card_id is a ${d.card_id === null ? 'null' : typeof d.card_id}`
          : !CARD_ID.test(d.card_id)
            ? 'card_id is not 1-64 letters, digits, - or _'
            : undefined
  if (problem !== undefined) {
    throw new UnexpectedResponseError({reason: `response is not a card record (${problem})`, site: {method, path}, status: res.status, requestId: res.requestId})
  }
  return d as MemberCardRecord
}

/**
 * A create's answer: a card record, and the record of THIS create. Both families echo out_request_no in the record
 * (openapi MemberCard.yaml#Record; brand 4015336970); an answer carrying another one was made for another call (a
 * replay, a confused proxy) and taking its card_id would bind this card to someone else's.
 */
export function expectCreated(res: WechatPayResponse, method: string, path: string, outRequestNo: string): MemberCardRecord {
  const card = expectCard(res, method, path)
  if (card.out_request_no !== undefined && card.out_request_no !== outRequestNo) {
    const shown = String(card.out_request_no).slice(0, 64)
    throw new UnexpectedResponseError({
      reason: `response is the record of another create (out_request_no ${JSON.stringify(shown)}, sent ${JSON.stringify(outRequestNo)})`,
      site: {method, path},
      status: res.status,
      requestId: res.requestId,
    })
  }
  return card
}

export function expectPage(res: WechatPayResponse, method: string, path: string): ListPage<MemberCardRecord> {
  const d = res.data as Record<string, unknown> | undefined
  const data = d?.data ?? []
  if (d === null || typeof d !== 'object' || !Array.isArray(data) || typeof d.total_count !== 'number') {
    throw new UnexpectedResponseError({
      reason: 'response is not a list page ({data[], total_count})',
      site: {method, path},
      status: res.status,
      requestId: res.requestId,
    })
  }
  return {
    data: data as MemberCardRecord[],
    total_count: d.total_count,
    offset: typeof d.offset === 'number' ? d.offset : 0,
    limit: typeof d.limit === 'number' ? d.limit : data.length,
  }
}
