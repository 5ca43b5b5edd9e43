import {pathSegment, type WechatPayClient} from './client.js'
import {
  checkLimit,
  expectCard,
  expectCreated,
  expectPage,
  requireOutRequestNo,
  type ListPage,
  type MemberCardRecord,
} from './membercard-open.js'

/**
 * Brand partner card-member (商家名片会员, `/v3/brand/partner/card-member`): thin typed wrappers at the paths and
 * statuses of reference §1b. brand_id is required on every call but create, where it is in the body.
 */

export const BRAND_CARDS = '/v3/brand/partner/card-member/cards'

export const BRAND_MAX_LIMIT = 20

export type BrandCardState = 'CARD_EFFECTIVE' | 'CARD_INVALID'

/** A brand card as returned (with `state`, `create_time`, `update_time`); other fields kept loose. */
export type BrandCardRecord = MemberCardRecord

export type BrandCardCreateBody = {out_request_no: string; brand_id: string} & Record<string, unknown>

export interface BrandCardListQuery {
  brand_id: string
  state?: BrandCardState
  /** A RECORD offset here (unlike membercard-open, where it is a page index; reference §5). */
  offset?: number
  /** 1..20; 20 when not given. */
  limit?: number
}

export class BrandCardMemberApi {
  constructor(private readonly client: WechatPayClient) {}

  /** POST …/cards → 200 with the card. Idempotent through out_request_no. */
  async create(body: BrandCardCreateBody): Promise<BrandCardRecord> {
    requireOutRequestNo(body)
    requireBrandId(body.brand_id)
    const res = await this.client.request({method: 'POST', path: BRAND_CARDS, body, idempotent: true})
    return expectCreated(res, 'POST', BRAND_CARDS, body.out_request_no)
  }

  /** GET …/cards?brand_id=&state=&offset=&limit= → one page. */
  async list(query: BrandCardListQuery): Promise<ListPage<BrandCardRecord>> {
    requireBrandId(query.brand_id)
    checkLimit(query.limit, BRAND_MAX_LIMIT)
    const res = await this.client.request({
      method: 'GET',
      path: BRAND_CARDS,
      query: {brand_id: query.brand_id, state: query.state, offset: query.offset, limit: query.limit ?? BRAND_MAX_LIMIT},
    })
    return expectPage(res, 'GET', BRAND_CARDS)
  }

  /** Every card of the brand, advancing the record offset by what each page returned. */
  async *listAll(query: Omit<BrandCardListQuery, 'offset'>): AsyncGenerator<BrandCardRecord> {
    const limit = query.limit ?? BRAND_MAX_LIMIT
    for (let offset = 0; ; ) {
      const res = await this.list({...query, offset, limit})
      yield* res.data
      offset += res.data.length
      if (res.data.length === 0 || res.data.length < limit || offset >= res.total_count) return
    }
  }

  /** GET …/cards/{card_id}?brand_id= (brand_id required). */
  async get(cardId: string, brandId: string): Promise<BrandCardRecord> {
    requireBrandId(brandId)
    const path = `${BRAND_CARDS}/${pathSegment(cardId)}`
    const res = await this.client.request({method: 'GET', path, query: {brand_id: brandId}})
    return expectCard(res, 'GET', path)
  }

  /**
   * PATCH …/cards/{card_id} with brand_id in the body → 200 with the full card (not 204). An answer without a body
   * (a 204, as membercard-open's PATCH gives) is a success too, and resolves to undefined: read the card back.
   */
  async patch(cardId: string, body: {brand_id: string} & Record<string, unknown>): Promise<BrandCardRecord | undefined> {
    requireBrandId(body.brand_id)
    const path = `${BRAND_CARDS}/${pathSegment(cardId)}`
    const res = await this.client.request({method: 'PATCH', path, body})
    return res.data === undefined ? undefined : expectCard(res, 'PATCH', path)
  }

  /**
   * POST …/cards/{card_id}/invalidate {brand_id} → 200 with the card, state CARD_INVALID. One-way, so repeating it
   * changes nothing and it is retried like an idempotent call; a retry after a lost response may then be told the
   * card is already invalid, which the caller can confirm with get().
   */
  async invalidate(cardId: string, brandId: string): Promise<BrandCardRecord | undefined> {
    requireBrandId(brandId)
    const path = `${BRAND_CARDS}/${pathSegment(cardId)}/invalidate`
    const res = await this.client.request({method: 'POST', path, body: {brand_id: brandId}, idempotent: true})
    // Documented: 200 with the card. A 204 without a body is a success all the same (see patch).
    return res.data === undefined ? undefined : expectCard(res, 'POST', path)
  }
}

function requireBrandId(brandId: unknown): void {
  if (typeof brandId !== 'string' || brandId === '') {
    throw new TypeError('brand_id is required by every brand partner card-member call')
  }
}
