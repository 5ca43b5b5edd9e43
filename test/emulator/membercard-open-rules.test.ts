import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {BRAND, MCO, startTestEmulator, type TestEmulator} from './signed-client.js'
import {brandBody, membercardBody} from './bodies.js'
import {expectApiError} from './expect-error.js'

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
const patch = (id: string, body: unknown) => t.call('PATCH', `${MCO}/${id}`, body)
const rights = (id: string, body: unknown) => t.call('PATCH', `${MCO}/${id}/rights`, body)

describe('membercard-open field rules', () => {
  it('refuses a create without a required field', async () => {
    const r = await t.call('POST', MCO, membercardBody({title: undefined}))
    expectApiError(r, 400, 'PARAM_ERROR', /“\/body\/title”.*必填性规则校验失败/)
    expect(r.json.detail).toMatchObject({field: '/title', location: 'body'})
  })

  it('refuses a create without a required nested field', async () => {
    const r = await t.call('POST', MCO, membercardBody({brand: {brand_id: '1004'}}))
    expectApiError(r, 400, 'PARAM_ERROR', /“\/body\/brand\/display_name”.*必填/)
  })

  it('counts lengths in characters: ten Chinese characters fit title, eleven do not', async () => {
    await create({title: '一二三四五六七八九十'})
    const r = await t.call('POST', MCO, membercardBody({title: '一二三四五六七八九十一'}))
    expectApiError(r, 400, 'PARAM_ERROR', /“\/body\/title”.*字符数 11,大于最大值 10/)
  })

  it('refuses a value outside an enum (the brand family spelling QR_CODE)', async () => {
    const r = await t.call('POST', MCO, membercardBody({code_type: 'QR_CODE'}))
    expectApiError(r, 400, 'PARAM_ERROR', /“\/body\/code_type”.*枚举规则校验失败/)
  })

  it('refuses a wrong type', async () => {
    const r = await t.call('POST', MCO, membercardBody({total_quantity: '100'}))
    expectApiError(r, 400, 'PARAM_ERROR', /“\/body\/total_quantity”.*类型规则校验失败/)
  })

  it('refuses an unknown field', async () => {
    const r = await t.call('POST', MCO, membercardBody({modify_time: '2020-05-20T13:29:35.120+08:00'}))
    expectApiError(r, 400, 'PARAM_ERROR', /“\/body\/modify_time”/)
  })

  it('refuses a time that is not RFC 3339', async () => {
    const r = await t.call('POST', MCO, membercardBody({date_information: {type: 'FIX_TIME_RANGE', available_begin_time: '2020-05-20 13:29:35', available_end_time: '2030-05-20T13:29:35+08:00'}}))
    expectApiError(r, 400, 'PARAM_ERROR', /available_begin_time.*RFC 3339/)
  })

  it('requires init_level when need_display_level is true, at create and at PATCH', async () => {
    const r = await t.call('POST', MCO, membercardBody({need_display_level: true}))
    expectApiError(r, 400, 'INVALID_REQUEST', 'need_display_level为true时,init_level不能为空')
    const card = await create()
    expectApiError(await patch(card.card_id, {need_display_level: true}), 400, 'INVALID_REQUEST', 'need_display_level为true时,init_level不能为空')
    expect((await patch(card.card_id, {need_display_level: true, init_level: '白银会员'})).status).toBe(204)
  })

  it('requires the end time for FIX_TIME_RANGE and the day count for FIX_TERM', async () => {
    expectApiError(await t.call('POST', MCO, membercardBody({date_information: {type: 'FIX_TIME_RANGE', available_begin_time: '2020-05-20T13:29:35+08:00'}})), 400, 'INVALID_REQUEST', /FIX_TIME_RANGE.*available_end_time不能为空/)
    expectApiError(await t.call('POST', MCO, membercardBody({date_information: {type: 'FIX_TERM'}})), 400, 'INVALID_REQUEST', /FIX_TERM.*available_day_after_receive不能为空/)
    await create({date_information: {type: 'FIX_TERM', available_day_after_receive: 30}})
  })

  it('requires the begin time to precede the end time', async () => {
    const r = await t.call('POST', MCO, membercardBody({date_information: {type: 'FIX_TIME_RANGE', available_begin_time: '2030-05-20T13:29:35+08:00', available_end_time: '2020-05-20T13:29:35+08:00'}}))
    expectApiError(r, 400, 'INVALID_REQUEST', /早于/)
  })

  it('answers "储值小程序path为空" when a balance appid comes without its path', async () => {
    const r = await t.call('POST', MCO, membercardBody({balance_information: {need_balance: true, balance_appid: 'wxea9c30890f48d5ae'}}))
    expectApiError(r, 400, 'INVALID_REQUEST', '储值小程序path为空')
  })

  it('defaults total_quantity to 5000000 for SYSTEM_ALLOCATE only', async () => {
    expect((await create()).total_quantity).toBe(5000000)
    const deposit = await create({code_mode: 'MERCHANT_DEPOSIT'})
    expect(deposit).not.toHaveProperty('total_quantity')
    expect(deposit.remain_quantity).toBe(0)
  })
})

describe('membercard-open change rules', () => {
  it('refuses to change code_mode away from SYSTEM_ALLOCATE', async () => {
    const card = await create()
    expectApiError(await patch(card.card_id, {code_mode: 'MERCHANT_DEPOSIT'}), 400, 'INVALID_REQUEST', '会员卡code分配类型不支持修改')
    expect((await patch(card.card_id, {code_mode: 'SYSTEM_ALLOCATE'})).status).toBe(204)
  })

  it('refuses to change code_mode to SYSTEM_ALLOCATE', async () => {
    const card = await create({code_mode: 'MERCHANT_DEPOSIT'})
    expectApiError(await patch(card.card_id, {code_mode: 'SYSTEM_ALLOCATE'}), 400, 'INVALID_REQUEST', '会员卡code分配类型不支持修改为“系统分配”')
  })

  it('allows MERCHANT_DEPOSIT to become REAL_TIME', async () => {
    const card = await create({code_mode: 'MERCHANT_DEPOSIT'})
    expect((await patch(card.card_id, {code_mode: 'REAL_TIME'})).status).toBe(204)
    expect((await t.call('GET', `${MCO}/${card.card_id}`)).json.code_mode).toBe('REAL_TIME')
  })

  it('refuses to change the brand, and accepts the same brand sent again', async () => {
    const card = await create()
    expectApiError(await patch(card.card_id, {brand: {brand_id: '2002', display_name: '别的品牌'}}), 400, 'INVALID_REQUEST', '品牌信息(brand)不支持修改')
    expect((await patch(card.card_id, {brand: card.brand, title: '同品牌'})).status).toBe(204)
  })

  it('refuses to switch balance display off once on', async () => {
    const card = await create({balance_information: {need_balance: true, balance_url: 'https://example.com/balance'}})
    expectApiError(await patch(card.card_id, {balance_information: {need_balance: false}}), 400, 'INVALID_REQUEST', '会员储值一旦展示无法关闭')
    expect((await patch(card.card_id, {title: '不碰储值'})).status).toBe(204)
  })

  it('refuses to switch show_bonus off once on', async () => {
    const card = await create()
    expect((await rights(card.card_id, {show_bonus: true, show_favor: false})).status).toBe(204)
    expectApiError(await rights(card.card_id, {show_bonus: false, show_favor: false}), 400, 'INVALID_REQUEST', '会员权益一旦展示无法关闭')
  })

  it('refuses to switch show_favor off once on', async () => {
    const card = await create()
    expect((await rights(card.card_id, {show_bonus: false, show_favor: true})).status).toBe(204)
    expectApiError(await rights(card.card_id, {show_bonus: false, show_favor: false}), 400, 'INVALID_REQUEST', '会员权益一旦展示无法关闭')
  })

  it('requires show_bonus and show_favor in the rights body', async () => {
    const card = await create()
    expectApiError(await rights(card.card_id, {show_bonus: true}), 400, 'PARAM_ERROR', /show_favor.*必填/)
  })

  it('answers the documented "path为空" messages for rights jumps without a path', async () => {
    const card = await create()
    const bonus = {init_bonus: 0, bonus_value_word: '积分', bonus_cost_word: '100积分=1元'}
    expectApiError(await rights(card.card_id, {show_bonus: true, show_favor: false, bonus: {...bonus, bonus_jump_appid: 'wx1'}}), 400, 'INVALID_REQUEST', '积分跳转path为空')
    expectApiError(await rights(card.card_id, {show_bonus: true, show_favor: false, bonus: {...bonus, bonus_support_appid: 'wx1'}}), 400, 'INVALID_REQUEST', '自助积分跳转path为空')
    expectApiError(await rights(card.card_id, {show_bonus: false, show_favor: true, favor: {show_coupon: true, member_price_appid: 'wx1'}}), 400, 'INVALID_REQUEST', '会员专享价跳转path为空')
  })

  it('refuses any change to a deleted card', async () => {
    const card = await create()
    expect((await t.call('DELETE', `${MCO}/${card.card_id}`)).status).toBe(204)
    expectApiError(await patch(card.card_id, {title: '复活'}), 400, 'INVALID_REQUEST', /已删除/)
    expectApiError(await t.call('DELETE', `${MCO}/${card.card_id}`), 400, 'INVALID_REQUEST', /已删除/)
  })
})

describe('membercard-open addressing and general rules', () => {
  it('answers 404 RESOURCE_NOT_EXISTS for an unknown card', async () => {
    expectApiError(await t.call('GET', `${MCO}/pNoSuchCard000000000000000000`), 404, 'RESOURCE_NOT_EXISTS')
    expectApiError(await patch('pNoSuchCard000000000000000000', {title: 'x'}), 404, 'RESOURCE_NOT_EXISTS')
  })

  it('does not find a brand-family card under the membercard-open path', async () => {
    const brand = await t.call('POST', BRAND, brandBody())
    expectApiError(await t.call('GET', `${MCO}/${brand.json.card_id}`), 404, 'RESOURCE_NOT_EXISTS')
  })

  it('refuses a card created by another merchant', async () => {
    const card = await create()
    await t.emu.admin.mutateCard(card.card_id, {owner_mchid: '1900000002'})
    expectApiError(await t.call('GET', `${MCO}/${card.card_id}`), 400, 'INVALID_REQUEST', '会员卡的创建商户号不等于调用方商户号')
    expectApiError(await patch(card.card_id, {title: 'x'}), 400, 'INVALID_REQUEST', '会员卡的创建商户号不等于调用方商户号')
  })

  it('refuses JSON null anywhere in the body', async () => {
    expectApiError(await t.call('POST', MCO, membercardBody({service_phone: null})), 400, 'PARAM_ERROR', /null/)
    const nested = await t.call('POST', MCO, membercardBody({brand: {brand_id: '1004', display_name: null}}))
    expectApiError(nested, 400, 'PARAM_ERROR', /\/body\/brand\/display_name/)
  })

  it('refuses 4-byte UTF-8 characters and accepts 3-byte ones', async () => {
    expectApiError(await t.call('POST', MCO, membercardBody({title: '会员卡🎉'})), 400, 'PARAM_ERROR', /4字节/)
    await create({title: '会员卡€'})
  })

  it('refuses a body that is not JSON', async () => {
    expectApiError(await t.call('POST', MCO, undefined, {rawBody: '{"title":'}), 400, 'PARAM_ERROR', /JSON/)
  })

  it('returns the first card again for a retry with the same out_request_no and body', async () => {
    const body = membercardBody()
    const first = await t.call('POST', MCO, body)
    const reordered = Object.fromEntries(Object.entries(body).reverse())
    const second = await t.call('POST', MCO, reordered)
    expect(second.status).toBe(200)
    expect(second.json.card_id).toBe(first.json.card_id)
    expect(t.emu.admin.listCards().filter((c) => c.card['out_request_no'] === body['out_request_no'])).toHaveLength(1)
  })

  it('refuses the same out_request_no with another body', async () => {
    const body = membercardBody()
    expect((await t.call('POST', MCO, body)).status).toBe(200)
    expectApiError(await t.call('POST', MCO, {...body, title: '另一张卡'}), 400, 'INVALID_REQUEST', /out_request_no/)
  })

  it('validates list paging: limit is required and at most 20', async () => {
    expectApiError(await t.call('GET', `${MCO}?offset=0`), 400, 'PARAM_ERROR', /limit/)
    expectApiError(await t.call('GET', `${MCO}?offset=0&limit=21`), 400, 'PARAM_ERROR', /limit/)
    expectApiError(await t.call('GET', `${MCO}?offset=-1&limit=5`), 400, 'PARAM_ERROR', /offset/)
  })

  it('lists only the caller’s own cards', async () => {
    const brand = {brand_id: `own${Date.now() % 1e6}`, display_name: '自有'}
    const mine = await create({brand})
    const theirs = await create({brand})
    await t.emu.admin.mutateCard(theirs.card_id, {owner_mchid: '1900000002'})
    const list = (await t.call('GET', `${MCO}?brand_id=${brand.brand_id}&offset=0&limit=20`)).json
    expect(list.data.map((c: any) => c.card_id)).toEqual([mine.card_id])
  })
})
