import {describe, expect, it} from 'vitest'
import {readKindSemantics} from '../../../engine/model/schema-semantics.js'
import {clone, readFixture, readSchema, specProblems} from './validate.js'

const base = {
  brand_id: '1004582931',
  appid: 'wx5c2e8a0f3d7b9146',
  card_type: 'NORMAL',
  card_title: '动力健身会员',
  card_color: '#1E88E5',
  card_picture_url: 'https://wxpaylogo.qpic.cn/wxpaylogo/abc/0',
  code_mode: 'SYSTEM_ALLOCATE',
  code_type: 'QR_CODE',
  benefits: '团课九折',
  notify_url: 'https://api.example.cn/wxpay/notify',
  valid_date_information: {type: 'PERMANENT'},
  member_information: {jump_appid: 'wx5c2e8a0f3d7b9146', jump_path: '/pages/member/index'},
}

function withSpec(change: (spec: Record<string, any>) => void): string[] {
  const spec = clone(base) as Record<string, any>
  change(spec)
  return specProblems('BrandMemberCard', spec)
}

describe('BrandMemberCard schema', () => {
  it('accepts the base spec', () => {
    expect(specProblems('BrandMemberCard', base)).toEqual([])
  })

  it('requires the documented create fields, but not out_request_no', () => {
    expect(specProblems('BrandMemberCard', {})).toEqual(
      ['appid', 'benefits', 'brand_id', 'card_color', 'card_picture_url', 'card_title', 'card_type', 'code_mode', 'code_type', 'member_information', 'notify_url', 'valid_date_information'].map(
        (p) => `/spec required ${p}`,
      ),
    )
  })

  it('accepts card_color only as #RRGGBB', () => {
    expect(withSpec((s) => (s.card_color = '#ffff00'))).toEqual([])
    for (const bad of ['FFFF00', '#FFF', '#FFFF0G', '#FFFF000']) expect(withSpec((s) => (s.card_color = bad))).toEqual(['/spec/card_color pattern'])
  })

  it('accepts only the documented card_type, code_mode and code_type values', () => {
    for (const cardType of ['PURCHASE', 'NORMAL', 'BALANCE']) expect(withSpec((s) => (s.card_type = cardType))).toEqual([])
    expect(withSpec((s) => (s.card_type = 'VIP'))).toEqual(['/spec/card_type enum'])
    expect(withSpec((s) => (s.code_mode = 'MERCHANT_ALLOCATE'))).toEqual([])
    expect(withSpec((s) => (s.code_mode = 'MERCHANT_DEPOSIT'))).toEqual(['/spec/code_mode enum'])
    for (const codeType of ['NONE_CODE', 'BAR_CODE', 'QR_CODE', 'BAR_CODE_AND_QR_CODE']) expect(withSpec((s) => (s.code_type = codeType))).toEqual([])
    expect(withSpec((s) => (s.code_type = 'QRCODE'))).toEqual(['/spec/code_type enum'])
  })

  it('limits lengths as seed 002 documents them', () => {
    expect(withSpec((s) => (s.card_title = '一二三四五六七八九十一'))).toEqual(['/spec/card_title maxLength'])
    expect(withSpec((s) => (s.benefits = '权'.repeat(33)))).toEqual(['/spec/benefits maxLength'])
    expect(withSpec((s) => (s.brand_id = '1'.repeat(33)))).toEqual(['/spec/brand_id maxLength'])
    expect(withSpec((s) => (s.card_picture_url = `https://a.cn/${'a'.repeat(244)}`))).toEqual(['/spec/card_picture_url maxLength', '/spec/card_picture_url oneOf', '/spec/card_picture_url type'])
    expect(withSpec((s) => (s.card_picture_url = {file: 'assets/card.png'}))).toEqual([])
    expect(withSpec((s) => (s.notify_url = `https://a.cn/${'a'.repeat(244)}`))).toEqual(['/spec/notify_url maxLength'])
    expect(withSpec((s) => (s.legal_agreement = '款'.repeat(2049)))).toEqual(['/spec/legal_agreement maxLength'])
    expect(withSpec((s) => Object.assign(s, {need_display_level: true, init_level: '一二三四五六七八九十一'}))).toEqual(['/spec/init_level maxLength'])
    expect(withSpec((s) => (s.member_information.jump_path = `/${'p'.repeat(128)}`))).toEqual(['/spec/member_information/jump_path maxLength'])
  })

  it('requires code_jump_information with jump_appid and jump_path when code_type is JUMP_MINI_PROGRAM', () => {
    expect(withSpec((s) => (s.code_type = 'JUMP_MINI_PROGRAM'))).toEqual(['/spec required code_jump_information'])
    expect(withSpec((s) => Object.assign(s, {code_type: 'JUMP_MINI_PROGRAM', code_jump_information: {jump_appid: 'wx5c2e8a0f3d7b9146'}}))).toEqual([
      '/spec/code_jump_information required jump_path',
    ])
    expect(withSpec((s) => Object.assign(s, {code_type: 'JUMP_MINI_PROGRAM', code_jump_information: {jump_appid: 'wx5c2e8a0f3d7b9146', jump_path: '/pages/code'}}))).toEqual([])
  })

  it('requires init_level when need_display_level is true', () => {
    expect(withSpec((s) => (s.need_display_level = true))).toEqual(['/spec required init_level'])
    expect(withSpec((s) => Object.assign(s, {need_display_level: true, init_level: '普通会员'}))).toEqual([])
  })

  it('allows at most one custom form field', () => {
    const field = (name: string) => ({type: 'RADIO', name, values: ['是', '否']})
    expect(withSpec((s) => (s.user_information = {custom_field_list: [field('a')]}))).toEqual([])
    expect(withSpec((s) => (s.user_information = {custom_field_list: [field('a'), field('b')]}))).toEqual(['/spec/user_information/custom_field_list maxItems'])
    expect(withSpec((s) => (s.user_information = {custom_field_list: [{type: 'TEXT', name: 'a'}]}))).toEqual(['/spec/user_information/custom_field_list/0/type enum'])
    expect(withSpec((s) => (s.user_information = {common_field_list: ['USER_FORM_FLAG_MOBILE']}))).toEqual(['/spec/user_information/common_field_list/0 enum'])
  })

  it('takes purchase_information.price as whole fen, 0 or more', () => {
    expect(withSpec((s) => (s.purchase_information = {price: 0}))).toEqual([])
    expect(withSpec((s) => (s.purchase_information = {price: 39900}))).toEqual([])
    expect(withSpec((s) => (s.purchase_information = {price: 399.5}))).toEqual(['/spec/purchase_information/price type'])
    expect(withSpec((s) => (s.purchase_information = {price: -1}))).toEqual(['/spec/purchase_information/price minimum'])
  })

  it('applies the date rules: times for FIX_TIME_RANGE, 1..10958 days for FIX_TERM', () => {
    expect(withSpec((s) => (s.valid_date_information = {type: 'FIX_TIME_RANGE'}))).toEqual([
      '/spec/valid_date_information required available_begin_time',
      '/spec/valid_date_information required available_end_time',
    ])
    expect(withSpec((s) => (s.valid_date_information = {type: 'FIX_TERM', available_day_after_receive: 10958}))).toEqual([])
    expect(withSpec((s) => (s.valid_date_information = {type: 'FIX_TERM', available_day_after_receive: 10959}))).toEqual(['/spec/valid_date_information/available_day_after_receive maximum'])
    expect(withSpec((s) => (s.valid_date_information = {type: 'FIX_TERM'}))).toEqual(['/spec/valid_date_information required available_day_after_receive'])
  })

  it('seed 002 contradiction: its create example sends PERMANENT with begin/end times and a day count; cardform rejects those fields', () => {
    const {out_request_no: _managed, ...spec} = readFixture('002-brand-create.request.json')
    expect(specProblems('BrandMemberCard', spec)).toEqual([
      '/spec/valid_date_information/available_begin_time false schema',
      '/spec/valid_date_information/available_day_after_receive false schema',
      '/spec/valid_date_information/available_end_time false schema',
    ])
    expect(specProblems('BrandMemberCard', {...spec, valid_date_information: {type: 'PERMANENT'}})).toEqual([])
  })

  it('seed 002 body: out_request_no is declared as managed by cardform (the loader rejects it in a spec), not required', () => {
    const schema = readSchema('brand-member-card.schema.json') as any
    expect(schema.definitions.spec.required).not.toContain('out_request_no')
    expect(readKindSemantics(schema).fields.get('out_request_no')).toEqual({managed: true})
  })

  it('seed 002 contradiction: the response prints modify_time, the API returns update_time; update_time is the declared server field and modify_time is an unknown key', () => {
    const response = readFixture('002-brand-create.response.json')
    expect(response).toHaveProperty('modify_time')
    expect(readKindSemantics(readSchema('brand-member-card.schema.json')).fields.get('update_time')).toEqual({serverComputed: true})
    expect(withSpec((s) => (s.modify_time = '2020-05-20T13:29:35.120+08:00'))).toEqual(['/spec additionalProperties modify_time'])
  })
})
