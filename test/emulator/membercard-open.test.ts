import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {MCO, loadSeed, responseVerifies, startTestEmulator, type TestEmulator} from './signed-client.js'
import {membercardBody} from './bodies.js'

let t: TestEmulator
beforeAll(async () => {
  t = await startTestEmulator()
})
afterAll(async () => {
  await t.emu.close()
})

async function create(over: Record<string, unknown> = {}): Promise<Record<string, any>> {
  const r = await t.call('POST', MCO, membercardBody(over))
  expect(r.status, r.text).toBe(200)
  return r.json
}

describe('membercard-open cards', () => {
  it('creates a card with the server-computed fields and returns it on GET', async () => {
    const card = await create()
    expect(card.card_id).toMatch(/^p[A-Za-z0-9_-]{27}$/)
    expect(card.status).toBe('APPROVED')
    expect(card.create_time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+08:00$/)
    expect(card.update_time).toBe(card.create_time)
    expect(card.total_quantity).toBe(5000000)
    expect(card.remain_quantity).toBe(5000000)
    const got = await t.call('GET', `${MCO}/${card.card_id}`)
    expect(got.status).toBe(200)
    expect(got.json).toEqual(card)
  })

  it('signs every response with the WeChat Pay public key when the request names its id', async () => {
    const card = await create()
    const r = await t.call('GET', `${MCO}/${card.card_id}`)
    expect(r.headers.get('wechatpay-serial')).toBe(t.emu.credentials.wechatpay_public_key_id)
    expect(r.headers.get('request-id')).toBeTruthy()
    expect(responseVerifies(r, t.wechatpayPublicKey)).toBe(true)
    expect(responseVerifies(r, t.platformPublicKey)).toBe(false)
  })

  it('signs with the platform certificate key when the request sends no Wechatpay-Serial', async () => {
    const card = await create()
    const r = await t.call('GET', `${MCO}/${card.card_id}`, undefined, {wechatpaySerial: null})
    expect(r.status).toBe(200)
    expect(r.headers.get('wechatpay-serial')).toBe(t.emu.credentials.platform_certificate_serial)
    expect(r.headers.get('wechatpay-serial')).toMatch(/^[0-9A-F]{40}$/)
    expect(responseVerifies(r, t.platformPublicKey)).toBe(true)
  })

  it('signs 204 answers over an empty body and error answers too', async () => {
    const card = await create()
    const patched = await t.call('PATCH', `${MCO}/${card.card_id}`, {title: '新卡名'})
    expect(patched.status).toBe(204)
    expect(patched.text).toBe('')
    expect(responseVerifies(patched, t.wechatpayPublicKey)).toBe(true)
    const missing = await t.call('GET', `${MCO}/pNoSuchCard000000000000000000`)
    expect(missing.status).toBe(404)
    expect(responseVerifies(missing, t.wechatpayPublicKey)).toBe(true)
  })

  it('applies a PATCH and bumps update_time', async () => {
    const card = await create()
    await new Promise((r) => setTimeout(r, 5))
    expect((await t.call('PATCH', `${MCO}/${card.card_id}`, {title: '新卡名', total_quantity: 100})).status).toBe(204)
    const got = (await t.call('GET', `${MCO}/${card.card_id}`)).json
    expect(got.title).toBe('新卡名')
    expect(got.total_quantity).toBe(100)
    expect(got.remain_quantity).toBe(100)
    expect(got.update_time > card.update_time).toBe(true)
    expect(got.create_time).toBe(card.create_time)
  })

  it('accepts the seed 001 PATCH body as printed and returns a seed-001-shaped card', async () => {
    const card = await create({date_information: {type: 'FIX_TIME_RANGE', available_begin_time: '2020-05-20T13:29:35.120+08:00', available_end_time: '2025-05-20T13:29:35.120+08:00'}})
    const r = await t.call('PATCH', `${MCO}/${card.card_id}`, loadSeed('001-membercard-open-patch.request.json'))
    expect(r.status, r.text).toBe(204)
    const got = (await t.call('GET', `${MCO}/${card.card_id}`)).json
    // Seed 001's GET response table, top-level keys.
    for (const key of ['card_id', 'create_time', 'update_time', 'remain_quantity', 'status', 'brand', 'appid', 'logo_url', 'title',
      'background_picture_url', 'description', 'service_phone', 'code_type', 'total_quantity', 'date_information', 'code_mode',
      'need_display_level', 'init_level', 'out_request_no', 'balance_information', 'user_information_form', 'additional_statement']) {
      expect(got, key).toHaveProperty(key)
    }
    expect(got.date_information).toEqual({
      type: 'FIX_TIME_RANGE',
      available_begin_time: '2020-05-20T13:29:35.120+08:00',
      available_end_time: '2030-05-20T13:29:35.120+08:00',
      available_day_after_receive: 200,
    })
    // Write-only fields of the PATCH page are not in the GET table.
    expect(got.user_information_form).not.toHaveProperty('can_modify_after_activate')
  })

  it('accepts the seed 003 rights body at PATCH …/rights with 204 and never returns rights', async () => {
    const card = await create()
    const r = await t.call('PATCH', `${MCO}/${card.card_id}/rights`, loadSeed('003-membercard-open-rights.request.json'))
    expect(r.status, r.text).toBe(204)
    const got = (await t.call('GET', `${MCO}/${card.card_id}`)).json
    expect(got).not.toHaveProperty('show_bonus')
    expect(got).not.toHaveProperty('bonus')
    expect(t.emu.admin.getCard(card.card_id)?.rights).toEqual(loadSeed('003-membercard-open-rights.request.json'))
  })

  it('deletes with 204 and keeps the card readable with status DELETED', async () => {
    const card = await create()
    expect((await t.call('DELETE', `${MCO}/${card.card_id}`)).status).toBe(204)
    const got = await t.call('GET', `${MCO}/${card.card_id}`)
    expect(got.status).toBe(200)
    expect(got.json.status).toBe('DELETED')
  })

  it('lists with offset as a page index, limit and total_count', async () => {
    const brand = {brand_id: `b${Date.now() % 1e9}`, display_name: '列表品牌'}
    const ids: string[] = []
    for (let i = 0; i < 5; i++) ids.push((await create({brand})).card_id)
    const page0 = (await t.call('GET', `${MCO}?brand_id=${brand.brand_id}&offset=0&limit=2`)).json
    expect(page0.total_count).toBe(5)
    expect(page0.data.map((c: any) => c.card_id)).toEqual(ids.slice(0, 2))
    const page2 = (await t.call('GET', `${MCO}?brand_id=${brand.brand_id}&offset=2&limit=2`)).json
    expect(page2.data.map((c: any) => c.card_id)).toEqual(ids.slice(4, 5))
    expect(page2).toMatchObject({offset: 2, limit: 2, total_count: 5})
  })
})
