import {afterAll, describe, expect, it} from 'vitest'
import {loadKindSchemas} from '../../../engine/model/schema-semantics.js'
import {createAjv} from '../../../engine/spec/ajv.js'
import {BrandCardMemberApi} from '../../../engine/providers/wechatpay/brand-card-member.js'
import {MembercardOpenApi} from '../../../engine/providers/wechatpay/membercard-open.js'
import {Harness, membercardBody, seedFixture, uniqueId} from './emulator-helpers.js'

/**
 * What the API returns must fit the kind schemas, or the engine would diff against fields it does not know: the
 * response example printed in seed 002 (with the two documented corrections), and what the emulator's GET returns for
 * cards created from the seed bodies, each checked as the `spec` of a kind document.
 */
const schemas = loadKindSchemas()
const ajv = createAjv()
const validators = {
  MemberCard: ajv.compile(schemas.MemberCard),
  BrandMemberCard: ajv.compile(schemas.BrandMemberCard),
}

function errorsOf(kind: keyof typeof validators, spec: Record<string, unknown>): string[] {
  const v = validators[kind]
  return v({apiVersion: 'cardform/v1', kind, metadata: {name: 'response'}, spec}) ? [] : v.errors!.map((e) => `${e.instancePath} ${e.message}`)
}

const h = new Harness()
afterAll(() => h.closeAll())

describe('API responses fit the kind schemas', () => {
  it('the seed 002 response example, with update_time for modify_time and no date fields beside PERMANENT', () => {
    const printed = seedFixture('002-brand-create.response.json')
    const {modify_time, ...rest} = printed
    const corrected = {...rest, update_time: modify_time, valid_date_information: {type: 'PERMANENT'}}
    expect(errorsOf('BrandMemberCard', corrected)).toEqual([])
    // As printed it does not fit, for exactly the two documented seed contradictions.
    expect(errorsOf('BrandMemberCard', printed)).toEqual([
      '/spec must NOT have additional properties', // modify_time
      '/spec/valid_date_information/available_begin_time boolean schema is false',
      '/spec/valid_date_information/available_end_time boolean schema is false',
      '/spec/valid_date_information/available_day_after_receive boolean schema is false',
      '/spec/valid_date_information must match "then" schema', // PERMANENT takes no dates
    ])
  })

  it('the emulator’s GET of a membercard-open card created from a full create body', async () => {
    const emu = await h.emulator()
    const api = new MembercardOpenApi(h.client(emu))
    const created = await api.create(
      membercardBody({
        out_request_no: uniqueId('fit'),
        service_phone: '010-8877xxxx',
        need_display_level: true,
        init_level: '白银会员',
        balance_information: {need_balance: true, balance_appid: 'wxea9c30890f48d5ae', balance_path: 'pages/balance/balance'},
        user_information_form: {common_field_list: ['USER_FORM_FLAG_MOBILE'], custom_field_list: [{type: 'TEXT', name: '喜欢的运动', values: ['篮球']}]},
        additional_statement: {title: 'xxx会员卡使用须知', url: 'https://xxx.111.com'},
      }),
    )
    const live = await api.get(created.card_id)
    expect(Object.keys(live)).toEqual(expect.arrayContaining(['card_id', 'status', 'create_time', 'update_time', 'remain_quantity']))
    expect(errorsOf('MemberCard', live)).toEqual([])
  })

  it('the emulator’s GET of a brand card created from the seed 002 body', async () => {
    const emu = await h.emulator()
    const api = new BrandCardMemberApi(h.client(emu))
    const seed = seedFixture('002-brand-create.request.json')
    const brandId = String(seed.brand_id)
    const created = await api.create({...seed, out_request_no: uniqueId('fit'), brand_id: brandId, valid_date_information: {type: 'PERMANENT'}})
    const live = await api.get(created.card_id, brandId)
    expect(live).toHaveProperty('state', 'CARD_EFFECTIVE')
    expect(errorsOf('BrandMemberCard', live)).toEqual([])
  })
})
