import {parseAllDocuments} from 'yaml'
import {withExampleUrls} from '../../support/images.js'
import type {RunningEmulator} from '../../../emulator/index.js'
import {WechatPayClient} from '../../../engine/providers/wechatpay/client.js'
import {loadCredentialsFile} from '../../../engine/providers/wechatpay/credentials.js'
import {BrandCardMemberApi} from '../../../engine/providers/wechatpay/brand-card-member.js'
import {MembercardOpenApi} from '../../../engine/providers/wechatpay/membercard-open.js'
import {RateLimiterRegistry} from '../../../engine/providers/wechatpay/rate-limiter.js'
import {loadWires} from '../../../engine/providers/wires.js'

/**
 * Cards made "in the merchant console": created straight on the emulator over signed HTTP with the bare API client,
 * not through cardform, so cardform's state knows nothing of them.
 */
export class Console {
  private readonly client: WechatPayClient
  private readonly open: MembercardOpenApi
  private readonly brand: BrandCardMemberApi
  private n = 0

  constructor(emulator: RunningEmulator) {
    this.client = new WechatPayClient({...loadCredentialsFile(emulator.credentialsFile), rateLimit: false, rateLimiters: new RateLimiterRegistry()})
    this.open = new MembercardOpenApi(this.client)
    this.brand = new BrandCardMemberApi(this.client)
  }

  /** Create a card from a spec (YAML text of one card document or its spec object); returns its card_id. */
  async create(kind: 'MemberCard' | 'BrandMemberCard', spec: Record<string, unknown>): Promise<string> {
    const wire = loadWires().get(kind)!
    const key = `console-${process.pid}-${++this.n}`
    const body = wire.createBody(spec, key)
    if (kind === 'MemberCard') {
      const card = await this.open.create(body as Parameters<MembercardOpenApi['create']>[0])
      if (spec.rights) await this.open.setRights(card.card_id, spec.rights as Record<string, unknown>)
      return card.card_id
    }
    const card = await this.brand.create(body as Parameters<BrandCardMemberApi['create']>[0])
    return card.card_id
  }

  close(): Promise<void> {
    return this.client.close()
  }
}

/** The spec of each card document in a YAML text, by metadata.name; local images as the URLs they stand for in tests. */
export function specsOf(yamlText: string): Map<string, {kind: string; spec: Record<string, unknown>}> {
  const out = new Map<string, {kind: string; spec: Record<string, unknown>}>()
  for (const doc of parseAllDocuments(yamlText)) {
    const d = doc.toJS() as {kind: string; metadata: {name: string}; spec: Record<string, unknown>}
    out.set(d.metadata.name, {kind: d.kind, spec: withExampleUrls(d.spec) as Record<string, unknown>})
  }
  return out
}
