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
    return expectCard(res, 'POST', MEMBERCARD_OPEN_CARDS)
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

/** A verified response must still be the documented shape before we hand it on. */
export function expectCard(res: WechatPayResponse, method: string, path: string): MemberCardRecord {
  const d = res.data as Record<string, unknown> | undefined
  if (d === null || typeof d !== 'object' || Array.isArray(d) || typeof d.card_id !== 'string') {
    throw new UnexpectedResponseError({
      reason: 'response is not a card record (no card_id)',
      site: {method, path},
      status: res.status,
      requestId: res.requestId,
    })
  }
  return d as MemberCardRecord
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
