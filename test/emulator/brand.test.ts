import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {BRAND, loadSeed, responseVerifies, startTestEmulator, type TestEmulator} from './signed-client.js'
import {brandBody} from './bodies.js'
import {expectApiError} from './expect-error.js'

let t: TestEmulator
beforeAll(async () => {
  t = await startTestEmulator()
})
afterAll(async () => {
  await t.emu.close()
})

async function create(over: Record<string, unknown> = {}): Promise<Record<string, any>> {
  const r = await t.call('POST', BRAND, brandBody(over))
  expect(r.status, r.text).toBe(200)
  return r.json
}
const get = (id: string, brandId = '1004') => t.call('GET', `${BRAND}/${id}?brand_id=${brandId}`)
const patch = (id: string, body: Record<string, unknown>) => t.call('PATCH', `${BRAND}/${id}`, {brand_id: '1004', ...body})

describe('brand card-member cards', () => {
  it('accepts the seed 002 create body as printed and answers with the seed 002 response shape', async () => {
    const r = await t.call('POST', BRAND, loadSeed('002-brand-create.request.json'))
    expect(r.status, r.text).toBe(200)
    expect(responseVerifies(r, t.wechatpayPublicKey)).toBe(true)
    // Seed 002 应答示例 keys, with update_time for the seed's modify_time (reference §1d), nested keys included.
    const printed = loadSeed('002-brand-create.response.json')
    const expected = Object.keys(printed).map((k) => (k === 'modify_time' ? 'update_time' : k))
    expect(Object.keys(r.json)).toEqual(expected)
    for (const [key, value] of Object.entries(printed)) {
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) expect(Object.keys(r.json[key]), key).toEqual(Object.keys(value))
    }
    // Everything but the server-computed fields echoes the request.
    const {card_id: _id, state: _s, create_time: _c, update_time: _u, ...echoed} = r.json
    expect(echoed).toEqual(loadSeed('002-brand-create.request.json'))
    expect(r.json.state).toBe('CARD_EFFECTIVE')
    expect(r.json.card_id).toHaveLength(28)
    const got = await get(r.json.card_id)
    expect(got.json).toEqual(r.json)
  })

  it('returns need_pinned and need_display_level as false when omitted', async () => {
    const card = await create()
    expect(card.need_pinned).toBe(false)
    expect(card.need_display_level).toBe(false)
  })

  it('requires member_information (seed 002: 必填)', async () => {
    expectApiError(await t.call('POST', BRAND, brandBody({member_information: undefined})), 400, 'PARAM_ERROR', /member_information.*必填/)
  })

  it('requires card_color to be a hex RGB colour', async () => {
    expectApiError(await t.call('POST', BRAND, brandBody({card_color: 'yellow'})), 400, 'PARAM_ERROR', /card_color.*十六进制/)
  })

  it('allows only digits, letters, - and _ in out_request_no', async () => {
    expectApiError(await t.call('POST', BRAND, brandBody({out_request_no: 'a b'})), 400, 'PARAM_ERROR', /out_request_no/)
  })

  it('allows one custom field at most', async () => {
    const field = {type: 'RADIO', name: '性别', values: ['男', '女']}
    expectApiError(await t.call('POST', BRAND, brandBody({user_information: {custom_field_list: [field, field]}})), 400, 'PARAM_ERROR', /custom_field_list/)
  })

  it('caps available_day_after_receive at 10958 days', async () => {
    const r = await t.call('POST', BRAND, brandBody({valid_date_information: {type: 'FIX_TERM', available_day_after_receive: 10959}}))
    expectApiError(r, 400, 'PARAM_ERROR', /大于最大值 10958/)
  })

  it('requires code_jump_information for JUMP_MINI_PROGRAM', async () => {
    const r = await t.call('POST', BRAND, brandBody({code_type: 'JUMP_MINI_PROGRAM'}))
    expectApiError(r, 400, 'INVALID_REQUEST', /JUMP_MINI_PROGRAM.*code_jump_information/)
    await create({code_type: 'JUMP_MINI_PROGRAM', code_jump_information: {jump_appid: 'wx1', jump_path: '/pages/code'}})
  })

  it('requires init_level when need_display_level is true', async () => {
    expectApiError(await t.call('POST', BRAND, brandBody({need_display_level: true})), 400, 'INVALID_REQUEST', 'need_display_level为true时,init_level不能为空')
  })

  it('requires brand_id on GET and refuses another brand’s id', async () => {
    const card = await create()
    expectApiError(await t.call('GET', `${BRAND}/${card.card_id}`), 400, 'PARAM_ERROR', /brand_id.*必填/)
    expectApiError(await get(card.card_id, '9999'), 400, 'PARAM_ERROR', '商户和品牌关系校验失败')
  })

  it('answers PATCH with 200 and the whole updated card', async () => {
    const card = await create()
    const r = await patch(card.card_id, {card_title: '新卡名'})
    expect(r.status).toBe(200)
    expect(r.json.card_title).toBe('新卡名')
    expect(r.json.card_id).toBe(card.card_id)
    expect(r.json.create_time).toBe(card.create_time)
  })

  it('requires brand_id in the PATCH body and refuses another brand’s id', async () => {
    const card = await create()
    expectApiError(await t.call('PATCH', `${BRAND}/${card.card_id}`, {card_title: 'x'}), 400, 'PARAM_ERROR', /brand_id.*必填/)
    expectApiError(await patch(card.card_id, {brand_id: '9999', card_title: 'x'}), 400, 'PARAM_ERROR', '商户和品牌关系校验失败')
  })

  it('refuses to change appid, card_type or code_type, and accepts them unchanged', async () => {
    const card = await create()
    expectApiError(await patch(card.card_id, {appid: 'wx0000000000000000'}), 400, 'INVALID_REQUEST', /appid.*不支持修改/)
    expectApiError(await patch(card.card_id, {card_type: 'BALANCE'}), 400, 'INVALID_REQUEST', /card_type.*不支持修改/)
    expectApiError(await patch(card.card_id, {code_type: 'QR_CODE'}), 400, 'INVALID_REQUEST', /code_type.*不支持修改/)
    expect((await patch(card.card_id, {appid: card.appid, card_type: card.card_type, code_type: card.code_type})).status).toBe(200)
  })

  it('refuses to change code_mode either way', async () => {
    const sys = await create()
    expectApiError(await patch(sys.card_id, {code_mode: 'MERCHANT_ALLOCATE'}), 400, 'INVALID_REQUEST', '会员卡code分配类型不支持修改')
    const merchant = await create({code_mode: 'MERCHANT_ALLOCATE'})
    expectApiError(await patch(merchant.card_id, {code_mode: 'SYSTEM_ALLOCATE'}), 400, 'INVALID_REQUEST', '会员卡code分配类型不支持修改为“系统分配”')
  })

  it('invalidates with 200 and state CARD_INVALID, once only', async () => {
    const card = await create()
    const r = await t.call('POST', `${BRAND}/${card.card_id}/invalidate`, {brand_id: '1004'})
    expect(r.status).toBe(200)
    expect(r.json.state).toBe('CARD_INVALID')
    expectApiError(await t.call('POST', `${BRAND}/${card.card_id}/invalidate`, {brand_id: '1004'}), 400, 'INVALID_REQUEST', /已作废/)
  })

  it('refuses to patch an invalidated card', async () => {
    const card = await create()
    await t.call('POST', `${BRAND}/${card.card_id}/invalidate`, {brand_id: '1004'})
    expectApiError(await patch(card.card_id, {card_title: '复活'}), 400, 'INVALID_REQUEST', /已作废/)
  })

  it('treats DELETE ?brand_id= as an alias of invalidate', async () => {
    const card = await create()
    const r = await t.call('DELETE', `${BRAND}/${card.card_id}?brand_id=1004`)
    expect(r.status).toBe(200)
    expect(r.json.state).toBe('CARD_INVALID')
  })

  it('lists by brand with a record offset, a state filter and limit at most 20', async () => {
    const brandId = `L${Date.now() % 1e8}`
    const ids: string[] = []
    for (let i = 0; i < 3; i++) ids.push((await create({brand_id: brandId})).card_id)
    await t.call('POST', `${BRAND}/${ids[0]}/invalidate`, {brand_id: brandId})
    const page = (await t.call('GET', `${BRAND}?brand_id=${brandId}&offset=1&limit=2`)).json
    expect(page).toMatchObject({total_count: 3, offset: 1, limit: 2})
    expect(page.data.map((c: any) => c.card_id)).toEqual(ids.slice(1, 3))
    const effective = (await t.call('GET', `${BRAND}?brand_id=${brandId}&state=CARD_EFFECTIVE`)).json
    expect(effective.total_count).toBe(2)
    expectApiError(await t.call('GET', `${BRAND}?limit=5`), 400, 'PARAM_ERROR', /brand_id/)
    expectApiError(await t.call('GET', `${BRAND}?brand_id=${brandId}&limit=21`), 400, 'PARAM_ERROR', /limit/)
    expectApiError(await t.call('GET', `${BRAND}?brand_id=${brandId}&state=GONE`), 400, 'PARAM_ERROR', /state/)
  })

  it('returns the first card for a retried create and refuses a reused out_request_no with another body', async () => {
    const body = brandBody()
    const first = await t.call('POST', BRAND, body)
    const again = await t.call('POST', BRAND, body)
    expect(again.json.card_id).toBe(first.json.card_id)
    expectApiError(await t.call('POST', BRAND, {...body, card_title: '别的'}), 400, 'INVALID_REQUEST', /out_request_no/)
  })
})
