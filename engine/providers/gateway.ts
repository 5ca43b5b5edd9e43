import type {CardGateway, RemoteFailure} from '../apply/gateway.js'
import {fingerprint} from '../diff/values.js'
import type {LiveRead} from '../plan/compute-plan.js'
import type {ListingScope, LivePage} from '../plan/refresh.js'
import {assertNever} from '../model/plan.js'
import type {Family} from '../model/schema-semantics.js'
import {AggregatorError, ApiError} from './wechatpay/errors.js'
import {AggregatorClient} from './wechatpay/aggregator.js'
import {BRAND_MAX_LIMIT, BrandCardMemberApi} from './wechatpay/brand-card-member.js'
import {WechatPayClient, type WechatPayClientOptions} from './wechatpay/client.js'
import {MediaApi} from './wechatpay/media.js'
import {MEMBERCARD_OPEN_MAX_LIMIT, MembercardOpenApi, type ListPage, type MemberCardRecord} from './wechatpay/membercard-open.js'
import {brandIdOf} from './wires.js'

/** One card from a list call. `gone` says why a listed card no longer counts (deleted, invalidated). */
export interface ListedCard {
  remoteId: string
  object: Record<string, unknown>
  gone?: string
}

/** What a list call is limited to: the brand partner family lists one brand at a time (brand_id is required). */
export type ListScope = 'merchant' | 'brand'

export interface GatewayOptions {
  wechatpay: WechatPayClientOptions
  aggregator?: {endpoint: string; token: string}
  /** Kind → API family, from the kind schemas. */
  families: ReadonlyMap<string, Family>
}

/**
 * The CardGateway over WeChat Pay: maps card kinds to their family's endpoints, and the API's ways of saying
 * "gone" (404, status DELETED, state CARD_INVALID) to one answer.
 */
export class WechatPayGateway implements CardGateway {
  private readonly client: WechatPayClient
  private readonly open: MembercardOpenApi
  private readonly brand: BrandCardMemberApi
  private readonly media: MediaApi
  private readonly aggregator: AggregatorClient | undefined

  constructor(private readonly options: GatewayOptions) {
    this.client = new WechatPayClient(options.wechatpay)
    this.open = new MembercardOpenApi(this.client)
    this.brand = new BrandCardMemberApi(this.client)
    this.media = new MediaApi(this.client)
    this.aggregator = options.aggregator
      ? new AggregatorClient({endpoint: options.aggregator.endpoint, token: options.aggregator.token})
      : undefined
  }

  private family(kind: string): Family {
    const f = this.options.families.get(kind)
    if (!f) throw new Error(`no API family for kind ${kind}`)
    return f
  }

  /** The aggregator's legacy API has no GET: its cards are compared with state only. */
  canRead(kind: string): boolean {
    return this.family(kind) !== 'aggregator'
  }

  async read(kind: string, remoteId: string, applied: Record<string, unknown>): Promise<LiveRead> {
    const family = this.family(kind)
    try {
      switch (family) {
        case 'membercard-open':
        case 'brand-partner': {
          const card = family === 'membercard-open' ? await this.open.get(remoteId) : await this.brand.get(remoteId, requireBrand(applied, kind))
          const gone = goneDetail(family, card)
          if (gone) return {status: 'gone', detail: gone}
          return {status: 'found', object: card, fingerprint: fingerprint(card)}
        }
        case 'aggregator':
          throw new Error(`${kind} cards cannot be read back: the aggregator API has no GET`)
        default:
          return assertNever(family)
      }
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return {status: 'gone', detail: `404 ${e.code}`.trim()}
      throw e
    }
  }

  /** The aggregator's legacy API has no list call either: its cards cannot be found, only created. */
  canList(kind: string): boolean {
    return this.family(kind) !== 'aggregator'
  }

  listScope(kind: string): ListScope {
    return this.family(kind) === 'brand-partner' ? 'brand' : 'merchant'
  }

  /**
   * Every card of the kind, page after page (membercard-open counts pages in `offset`, the brand partner family
   * counts records: the clients' listAll know which), deleted and invalidated ones included but marked `gone`.
   * A card that moves between pages while they are read is listed once.
   */
  async listCards(kind: string, scope: {brandId?: string} = {}): Promise<ListedCard[]> {
    const family = this.family(kind)
    let pages: AsyncIterable<Record<string, unknown> & {card_id: string}>
    switch (family) {
      case 'membercard-open':
        pages = this.open.listAll()
        break
      case 'brand-partner':
        if (!scope.brandId) throw new Error(`${kind}: the brand partner API lists cards of one brand only; a brand_id is needed`)
        pages = this.brand.listAll({brand_id: scope.brandId})
        break
      case 'aggregator':
        throw new Error(`${kind} cards cannot be listed: the aggregator API has no list call`)
      default:
        return assertNever(family)
    }
    const cards = new Map<string, ListedCard>()
    for await (const card of pages) {
      const gone = goneDetail(family, card)
      cards.set(card.card_id, {remoteId: card.card_id, object: card, ...(gone ? {gone} : {})})
    }
    return [...cards.values()]
  }

  /**
   * The listing a card in state is found in, for refresh by list pages: the merchant's whole list for membercard-open
   * (no brand_id or appid filter, so one listing covers every card), one brand's for the brand partner family (the
   * brand_id applied last time). Undefined when the card cannot be listed: the aggregator has no list call, and a
   * brand card without a brand_id in state is left to read(), which says why.
   */
  listingOf(kind: string, applied: Record<string, unknown>): ListingScope | undefined {
    const family = this.family(kind)
    switch (family) {
      case 'membercard-open':
        return {}
      case 'brand-partner': {
        const brandId = brandIdOf(applied)
        return brandId ? {brandId} : undefined
      }
      case 'aggregator':
        return undefined
      default:
        return assertNever(family)
    }
  }

  /**
   * Page `page` (from 0) of a listing, at the largest page size. The families count `offset` differently
   * (membercard-open in pages, the brand partner family in records; reference §5): callers number pages only.
   *
   * F: a list item is the same record as GET's (openapi: membercard-open list `data[]` and GET are both
   * `MemberCard.yaml#Record`; the brand list item has GET's properties and required list, the fragment's indentation
   * slip nesting state/create_time/update_time under user_information aside). I: that at one moment it has the same
   * values, so a card read from a page fingerprints as its GET would; the emulator serves both from one function.
   */
  async listPage(kind: string, scope: ListingScope, page: number): Promise<LivePage> {
    const family = this.family(kind)
    let res: ListPage<MemberCardRecord>
    let pageSize: number
    switch (family) {
      case 'membercard-open':
        pageSize = MEMBERCARD_OPEN_MAX_LIMIT
        res = await this.open.list({offset: page, limit: pageSize})
        break
      case 'brand-partner':
        if (!scope.brandId) throw new Error(`${kind}: the brand partner API lists cards of one brand only; a brand_id is needed`)
        pageSize = BRAND_MAX_LIMIT
        res = await this.brand.list({brand_id: scope.brandId, offset: page * pageSize, limit: pageSize})
        break
      case 'aggregator':
        throw new Error(`${kind} cards cannot be listed: the aggregator API has no list call`)
      default:
        return assertNever(family)
    }
    const cards = res.data.map((card) => {
      const gone = goneDetail(family, card)
      return {remoteId: card.card_id, object: card, ...(gone ? {gone} : {})}
    })
    return {cards, total: res.total_count, pageSize}
  }

  async create(kind: string, body: Record<string, unknown>, outRequestNo: string) {
    const family = this.family(kind)
    switch (family) {
      case 'membercard-open': {
        const card = await this.open.create({...body, out_request_no: outRequestNo})
        return {remoteId: card.card_id, live: card}
      }
      case 'brand-partner': {
        const card = await this.brand.create({...body, out_request_no: outRequestNo, brand_id: String(body.brand_id)})
        return {remoteId: card.card_id, live: card}
      }
      case 'aggregator': {
        if (!this.aggregator) throw new Error(`${kind}: provider.aggregator (endpoint and token) is not configured`)
        const res = await this.aggregator.createMemberCard(body)
        return {remoteId: res.card_id}
      }
      default:
        return assertNever(family)
    }
  }

  async patch(kind: string, remoteId: string, body: Record<string, unknown>) {
    const family = this.family(kind)
    switch (family) {
      case 'membercard-open':
        await this.open.patch(remoteId, body)
        return {}
      case 'brand-partner': {
        const live = await this.brand.patch(remoteId, {...body, brand_id: String(body.brand_id)})
        return live ? {live} : {}
      }
      case 'aggregator':
        throw new Error(`${kind} cards cannot be modified`)
      default:
        return assertNever(family)
    }
  }

  async setRights(kind: string, remoteId: string, body: Record<string, unknown>): Promise<void> {
    if (this.family(kind) !== 'membercard-open') throw new Error(`${kind} has no rights endpoint`)
    await this.open.setRights(remoteId, body)
  }

  async remove(kind: string, remoteId: string, how: 'delete' | 'invalidate', body: Record<string, unknown>): Promise<void> {
    try {
      if (how === 'delete') await this.open.delete(remoteId)
      else await this.brand.invalidate(remoteId, String(body.brand_id))
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return // already gone
      // A repeat after a lost answer (the card was deleted or invalidated, the answer never came back) is refused. The
      // reference documents no answer for a second DELETE; the emulator's 400 for a DELETED card is an inference (a
      // deleted card stays readable with status DELETED). Either way a 400 counts as done only when a GET confirms
      // the card is gone.
      if (e instanceof ApiError && e.status === 400) {
        const now = await this.read(kind, remoteId, body)
        if (now.status === 'gone') return
      }
      throw e
    }
  }

  /**
   * The marketing image upload, for every family: membercard-open's image fields take only its URLs (reference §1c),
   * and no partner-side upload exists for the brand family (reference §1c I). Its failures are ApiError or
   * TransportError like every other call, so describeFailure needs no case of its own.
   */
  async uploadImage(image: {filename: string; bytes: Uint8Array; sha256: string}): Promise<{mediaUrl: string}> {
    const res = await this.media.uploadImage(image)
    return {mediaUrl: res.media_url}
  }

  describeFailure(e: unknown): RemoteFailure {
    const message = e instanceof Error ? e.message : String(e)
    if (e instanceof ApiError) {
      // The status, code and Request-ID are fields of their own, so the message does not repeat them. A 429 is not a
      // refusal: it says only that its own attempt was not processed, while an earlier attempt of the same call (a
      // connection reset after the server made the card) may have been; and the same request may pass later.
      const refused = e.status >= 400 && e.status < 500 && e.status !== 429
      return {message: e.summary, status: e.status, ...(e.code ? {code: e.code} : {}), ...(e.requestId ? {requestId: e.requestId} : {}), refused}
    }
    if (e instanceof AggregatorError) {
      // An HTTP 4xx, or a 200 whose envelope says the create failed: the aggregator refused it. A final 429 changed
      // nothing either: the create is repeated only when no earlier attempt reached the aggregator (its body has no
      // request number), so every attempt was turned away. But unlike a refusal it may pass later.
      const code = e.errcode !== undefined ? `errcode ${e.errcode}` : e.status !== undefined ? `status ${e.status}` : undefined
      return {message: e.summary, status: e.httpStatus, ...(code ? {code} : {}), refused: e.httpStatus < 500}
    }
    return {message, refused: false}
  }

  async close(): Promise<void> {
    await this.client.close()
    await this.aggregator?.close?.()
  }
}

/** How each family says a card is gone while still returning it: membercard-open status, brand partner state. */
function goneDetail(family: 'membercard-open' | 'brand-partner', card: Record<string, unknown>): string | undefined {
  if (family === 'membercard-open') return card.status === 'DELETED' ? 'status DELETED' : undefined
  return card.state === 'CARD_INVALID' ? 'state CARD_INVALID (invalidated)' : undefined
}

function requireBrand(applied: Record<string, unknown>, kind: string): string {
  const id = brandIdOf(applied)
  if (!id) throw new Error(`${kind}: the state has no brand_id for this card, which the brand API needs to read it`)
  return id
}
