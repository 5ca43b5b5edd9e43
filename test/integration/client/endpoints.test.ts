import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {RunningEmulator} from '../../../emulator/index.js'
import {BrandCardMemberApi} from '../../../engine/providers/wechatpay/brand-card-member.js'
import type {WechatPayClient} from '../../../engine/providers/wechatpay/client.js'
import {AggregatorError, ApiError} from '../../../engine/providers/wechatpay/errors.js'
import {MembercardOpenApi} from '../../../engine/providers/wechatpay/membercard-open.js'
import {Harness, aggregatorBody, brandBody, membercardBody, seedFixture, uniqueId} from './emulator-helpers.js'

const h = new Harness()
let emu: RunningEmulator
let client: WechatPayClient

beforeAll(async () => {
  emu = await h.emulator()
  client = h.client(emu)
})
afterAll(() => h.closeAll())

describe('membercard-open against the emulator', () => {
  const api = () => new MembercardOpenApi(client)

  it('creates a card and reads it back', async () => {
    const created = await api().create(membercardBody())
    expect(created.card_id).toMatch(/^p/)
    expect(created.status).toBe('APPROVED')
    expect(await api().get(created.card_id)).toEqual(created)
  })

  it('patches a card with the body printed in seed 001 (204) and the change is visible', async () => {
    const created = await api().create(membercardBody())
    await api().patch(created.card_id, {...seedFixture('001-membercard-open-patch.request.json'), title: '改过的会员卡'})
    const after = await api().get(created.card_id)
    expect(after.title).toBe('改过的会员卡')
    expect(after.balance_information).toMatchObject({need_balance: true})
  })

  it('sets rights with PATCH …/rights (204); GET never returns them, the emulator stored them', async () => {
    const created = await api().create(membercardBody())
    const rights = {...seedFixture('003-membercard-open-rights.request.json'), show_bonus: true}
    await api().setRights(created.card_id, rights)
    expect(await api().get(created.card_id)).not.toHaveProperty('rights')
    expect(emu.admin.getCard(created.card_id)?.rights).toMatchObject({show_bonus: true, show_favor: false})
  })

  it('deletes a card (204); it then reads as DELETED', async () => {
    const created = await api().create(membercardBody())
    await api().delete(created.card_id)
    expect((await api().get(created.card_id)).status).toBe('DELETED')
  })

  it('lists every card of a brand through the page-index iterator', async () => {
    const brand = {brand_id: uniqueId('b').slice(-16), display_name: '列表品牌'}
    const ids = new Set<string>()
    for (let i = 0; i < 5; i++) ids.add((await api().create(membercardBody({brand}))).card_id)
    const page1 = await api().list({brand_id: brand.brand_id, offset: 1, limit: 2})
    expect(page1).toMatchObject({total_count: 5, offset: 1, limit: 2})
    expect(page1.data).toHaveLength(2)
    const all: string[] = []
    for await (const card of api().listAll({brand_id: brand.brand_id, limit: 2})) all.push(card.card_id)
    expect(all).toHaveLength(5)
    expect(new Set(all)).toEqual(ids)
  })

  it('surfaces an API rule as an ApiError with code, message and Request-ID', async () => {
    const created = await api().create(membercardBody({balance_information: {need_balance: true}}))
    const error = await api()
      .patch(created.card_id, {balance_information: {need_balance: false}})
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ApiError)
    const e = error as ApiError
    expect(e).toMatchObject({status: 400, code: 'INVALID_REQUEST', method: 'PATCH'})
    expect(e.requestId).toBeTruthy()
    expect(e.message).toBe(
      `PATCH /v3/marketing/membercard-open/cards/${created.card_id} failed: 400 INVALID_REQUEST ${e.apiMessage} (Request-ID ${e.requestId})`,
    )
  })

  it('refuses a list limit above 20 before calling', async () => {
    await expect(api().list({limit: 21})).rejects.toThrow('list limit must be an integer from 1 to 20, got 21')
  })
})

describe('brand partner card-member against the emulator', () => {
  const api = () => new BrandCardMemberApi(client)

  it('creates a card from the body printed in seed 002 and gets it with brand_id', async () => {
    const created = await api().create(brandBody())
    expect(created.state).toBe('CARD_EFFECTIVE')
    expect(await api().get(created.card_id, '1004')).toEqual(created)
  })

  it('patches a card and gets the updated card back (200)', async () => {
    const created = await api().create(brandBody())
    const patched = await api().patch(created.card_id, {brand_id: '1004', card_title: '新卡名'})
    expect(patched).toMatchObject({card_id: created.card_id, card_title: '新卡名'})
  })

  it('invalidates a card (200 with state CARD_INVALID)', async () => {
    const created = await api().create(brandBody())
    expect(await api().invalidate(created.card_id, '1004')).toMatchObject({card_id: created.card_id, state: 'CARD_INVALID'})
  })

  it('lists a brand page by page with record offsets', async () => {
    const brandId = uniqueId('B').replace(/\D/g, '').slice(-12)
    const ids = new Set<string>()
    for (let i = 0; i < 3; i++) ids.add((await api().create(brandBody({brand_id: brandId}))).card_id)
    const second = await api().list({brand_id: brandId, offset: 1, limit: 1})
    expect(second).toMatchObject({total_count: 3, offset: 1})
    const all: string[] = []
    for await (const card of api().listAll({brand_id: brandId, limit: 2})) all.push(card.card_id)
    expect(new Set(all)).toEqual(ids)
    expect(all).toHaveLength(3)
  })
})

describe('the aggregator create endpoint against the emulator', () => {
  it('creates a card with the bearer token from the credentials', async () => {
    const result = await h.aggregator(emu).createMemberCard(aggregatorBody())
    expect(result.card_id).toMatch(/^p/)
    expect(result.envelope).toMatchObject({status: 1})
  })

  it('reports the aggregator error envelope', async () => {
    const error = await h
      .aggregator(emu)
      .createMemberCard(aggregatorBody({title: '这是一个超过九个汉字的名称'}))
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(AggregatorError)
    expect((error as AggregatorError).status).toBe(0)
  })

  it('reports a wrong token', async () => {
    const error = await h.aggregator(emu, 'wrong-token').createMemberCard(aggregatorBody()).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(AggregatorError)
    expect((error as AggregatorError).httpStatus).toBe(401)
  })
})
