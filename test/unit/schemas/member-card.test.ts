import {describe, expect, it} from 'vitest'
import {clone, documentOf, problems, readFixture, specProblems} from './validate.js'

/** A small valid MemberCard spec; each test changes one thing. */
const base = {
  appid: 'wx3b0c7a1e5d9f2468',
  brand: {brand_id: '1001622624', display_name: '悦享咖啡'},
  logo_url: 'https://wxpaylogo.qpic.cn/wxpaylogo/abc/0',
  title: '悦享咖啡会员卡',
  background_picture_url: 'https://wxpaylogo.qpic.cn/wxpaylogo/def/0',
  description: '本卡仅限本人使用',
  code_type: 'QRCODE',
  code_mode: 'SYSTEM_ALLOCATE',
  date_information: {type: 'PERMANENT'},
}

function withSpec(change: (spec: Record<string, any>) => void): string[] {
  const spec = clone(base) as Record<string, any>
  change(spec)
  return specProblems('MemberCard', spec)
}

describe('MemberCard schema: document shape', () => {
  it('accepts the base spec', () => {
    expect(specProblems('MemberCard', base)).toEqual([])
  })

  it('requires apiVersion cardform/v1 and kind MemberCard', () => {
    expect(problems('MemberCard', {...documentOf('MemberCard', base), apiVersion: 'cardform/v2'})).toEqual(['/apiVersion const'])
    expect(problems('MemberCard', {...documentOf('MemberCard', base), kind: 'BrandMemberCard'})).toEqual(['/kind const'])
  })

  it('checks metadata.name against the DNS-label-like pattern', () => {
    expect(problems('MemberCard', documentOf('MemberCard', base, 'coffee.member_2'))).toEqual([])
    expect(problems('MemberCard', documentOf('MemberCard', base, 'Coffee'))).toEqual(['/metadata/name pattern'])
    expect(problems('MemberCard', documentOf('MemberCard', base, '-coffee'))).toEqual(['/metadata/name pattern'])
    expect(problems('MemberCard', documentOf('MemberCard', base, 'a'.repeat(64)))).toEqual(['/metadata/name pattern'])
  })

  it('reports misspelt keys at every level', () => {
    expect(problems('MemberCard', {...documentOf('MemberCard', base), extra: 1})).toEqual([' additionalProperties extra'])
    expect(problems('MemberCard', {...documentOf('MemberCard', base), metadata: {name: 'x', labels: {}}})).toEqual(['/metadata additionalProperties labels'])
    expect(withSpec((s) => (s.titel = 'x'))).toEqual(['/spec additionalProperties titel'])
    expect(withSpec((s) => (s.brand.brandid = '1'))).toEqual(['/spec/brand additionalProperties brandid'])
    expect(withSpec((s) => (s.date_information.typ = 'x'))).toEqual(['/spec/date_information additionalProperties typ'])
    expect(withSpec((s) => (s.rights = {show_bonus: false, show_favor: false, show_fapio: true}))).toEqual(['/spec/rights additionalProperties show_fapio'])
  })

  it('requires the create fields the API requires, but not out_request_no', () => {
    expect(specProblems('MemberCard', {})).toEqual(
      ['appid', 'background_picture_url', 'brand', 'code_mode', 'code_type', 'date_information', 'description', 'logo_url', 'title'].map((p) => `/spec required ${p}`),
    )
  })
})

describe('MemberCard schema: lengths, enums and formats', () => {
  it('limits lengths in characters, not bytes', () => {
    expect(withSpec((s) => (s.title = '一二三四五六七八九十'))).toEqual([])
    expect(withSpec((s) => (s.title = '一二三四五六七八九十一'))).toEqual(['/spec/title maxLength'])
    expect(withSpec((s) => (s.description = '字'.repeat(500)))).toEqual([])
    expect(withSpec((s) => (s.description = '字'.repeat(501)))).toEqual(['/spec/description maxLength'])
    // Image fields take a URL or {file: …} (oneOf): a URL too long fails the URL form, and so both forms.
    expect(withSpec((s) => (s.logo_url = `https://wxpaylogo.qpic.cn/${'a'.repeat(103)}`))).toEqual(['/spec/logo_url maxLength', '/spec/logo_url oneOf', '/spec/logo_url type'])
    expect(withSpec((s) => (s.background_picture_url = `https://wxpaylogo.qpic.cn/${'a'.repeat(103)}`))).toEqual(['/spec/background_picture_url maxLength', '/spec/background_picture_url oneOf', '/spec/background_picture_url type'])
    expect(withSpec((s) => (s.logo_url = {file: 'assets/logo.png'}))).toEqual([])
    expect(withSpec((s) => (s.logo_url = {file: ''}))).toEqual(['/spec/logo_url oneOf', '/spec/logo_url type', '/spec/logo_url/file minLength'])
    expect(withSpec((s) => (s.service_phone = '1'.repeat(33)))).toEqual(['/spec/service_phone maxLength'])
    expect(withSpec((s) => (s.brand.brand_id = '1'.repeat(17)))).toEqual(['/spec/brand/brand_id maxLength'])
    expect(withSpec((s) => Object.assign(s, {need_display_level: true, init_level: '白金至尊会员'}))).toEqual(['/spec/init_level maxLength'])
  })

  it('accepts only the documented code_type, code_mode and date type values', () => {
    for (const codeType of ['BAR_CODE', 'QRCODE', 'BAR_CODE_AND_QRCODE', 'NONE_CODE']) expect(withSpec((s) => (s.code_type = codeType))).toEqual([])
    expect(withSpec((s) => (s.code_type = 'QR_CODE'))).toEqual(['/spec/code_type enum'])
    expect(withSpec((s) => (s.code_mode = 'MERCHANT_ALLOCATE'))).toEqual(['/spec/code_mode enum'])
    expect(withSpec((s) => (s.date_information.type = 'FOREVER'))).toEqual(['/spec/date_information/type enum'])
  })

  it('accepts only the documented form field values', () => {
    expect(withSpec((s) => (s.user_information_form = {common_field_list: ['USER_FORM_FLAG_MOBILE', 'USER_FORM_FLAG_CITY']}))).toEqual([])
    expect(withSpec((s) => (s.user_information_form = {common_field_list: ['USER_FORM_FLAG_PHONE']}))).toEqual(['/spec/user_information_form/common_field_list/0 enum'])
    expect(withSpec((s) => (s.user_information_form = {custom_field_list: [{type: 'DROPDOWN', name: '爱好'}]}))).toEqual(['/spec/user_information_form/custom_field_list/0/type enum'])
    expect(withSpec((s) => (s.user_information_form = {custom_field_list: [{type: 'TEXT'}]}))).toEqual(['/spec/user_information_form/custom_field_list/0 required name'])
  })

  it('checks the AppID shape', () => {
    expect(withSpec((s) => (s.appid = 'wx123'))).toEqual(['/spec/appid pattern'])
  })

  it('requires RFC 3339 date-times with an offset', () => {
    const range = (begin: string) => (s: Record<string, any>) => (s.date_information = {type: 'FIX_TIME_RANGE', available_begin_time: begin, available_end_time: '2030-05-20T13:29:35.120+08:00'})
    expect(withSpec(range('2020-05-20T13:29:35+08:00'))).toEqual([])
    expect(withSpec(range('2020-05-20 13:29:35'))).toEqual(['/spec/date_information/available_begin_time format'])
  })
})

describe('MemberCard schema: conditional rules', () => {
  it('requires init_level when need_display_level is true', () => {
    expect(withSpec((s) => (s.need_display_level = true))).toEqual(['/spec required init_level'])
    expect(withSpec((s) => Object.assign(s, {need_display_level: true, init_level: '银卡会员'}))).toEqual([])
    expect(withSpec((s) => (s.need_display_level = false))).toEqual([])
  })

  it('requires both times for FIX_TIME_RANGE and refuses FIX_TERM fields there', () => {
    expect(withSpec((s) => (s.date_information = {type: 'FIX_TIME_RANGE', available_begin_time: '2025-01-01T00:00:00+08:00'}))).toEqual([
      '/spec/date_information required available_end_time',
    ])
    expect(
      withSpec((s) => (s.date_information = {type: 'FIX_TIME_RANGE', available_begin_time: '2025-01-01T00:00:00+08:00', available_end_time: '2026-01-01T00:00:00+08:00', available_day_after_receive: 30})),
    ).toEqual(['/spec/date_information/available_day_after_receive false schema'])
  })

  it('requires available_day_after_receive for FIX_TERM, between 1 and 10958', () => {
    expect(withSpec((s) => (s.date_information = {type: 'FIX_TERM'}))).toEqual(['/spec/date_information required available_day_after_receive'])
    expect(withSpec((s) => (s.date_information = {type: 'FIX_TERM', available_day_after_receive: 10958, wait_days_after_receive: 1}))).toEqual([])
    expect(withSpec((s) => (s.date_information = {type: 'FIX_TERM', available_day_after_receive: 10959}))).toEqual(['/spec/date_information/available_day_after_receive maximum'])
    expect(withSpec((s) => (s.date_information = {type: 'FIX_TERM', available_day_after_receive: 0}))).toEqual(['/spec/date_information/available_day_after_receive minimum'])
    expect(withSpec((s) => (s.date_information = {type: 'FIX_TERM', available_day_after_receive: 1.5}))).toEqual(['/spec/date_information/available_day_after_receive type'])
    expect(withSpec((s) => (s.date_information = {type: 'FIX_TERM', available_day_after_receive: 30, available_end_time: '2026-01-01T00:00:00+08:00'}))).toEqual([
      '/spec/date_information/available_end_time false schema',
    ])
  })

  it('refuses begin, end and day fields with PERMANENT', () => {
    expect(withSpec((s) => (s.date_information = {type: 'PERMANENT', available_begin_time: '2025-01-01T00:00:00+08:00'}))).toEqual([
      '/spec/date_information/available_begin_time false schema',
    ])
    expect(withSpec((s) => (s.date_information = {type: 'PERMANENT', available_day_after_receive: 30}))).toEqual(['/spec/date_information/available_day_after_receive false schema'])
  })

  it('allows total_quantity only with SYSTEM_ALLOCATE, as a positive integer', () => {
    expect(withSpec((s) => (s.total_quantity = 100))).toEqual([])
    expect(withSpec((s) => (s.total_quantity = 0))).toEqual(['/spec/total_quantity minimum'])
    expect(withSpec((s) => Object.assign(s, {code_mode: 'MERCHANT_DEPOSIT', total_quantity: 100}))).toEqual(['/spec/total_quantity false schema'])
    expect(withSpec((s) => Object.assign(s, {code_mode: 'REAL_TIME'}))).toEqual([])
  })

  it('needs a top-up destination when need_balance is true: appid with path, or a URL', () => {
    expect(withSpec((s) => (s.balance_information = {need_balance: true}))).toEqual([
      '/spec/balance_information anyOf',
      '/spec/balance_information required balance_appid',
      '/spec/balance_information required balance_path',
      '/spec/balance_information required balance_url',
    ])
    expect(withSpec((s) => (s.balance_information = {need_balance: true, balance_appid: 'wx3b0c7a1e5d9f2468', balance_path: 'pages/balance/index'}))).toEqual([])
    expect(withSpec((s) => (s.balance_information = {need_balance: true, balance_url: 'https://shop.example.cn/balance'}))).toEqual([])
    expect(withSpec((s) => (s.balance_information = {need_balance: false}))).toEqual([])
  })

  it('refuses a top-up appid without its path (seed 003 "储值小程序path为空")', () => {
    expect(withSpec((s) => (s.balance_information = {need_balance: true, balance_appid: 'wx3b0c7a1e5d9f2468', balance_url: 'https://shop.example.cn/b'}))).toEqual([
      '/spec/balance_information dependencies balance_path',
    ])
  })

  it('requires show_bonus and show_favor whenever rights are given', () => {
    expect(withSpec((s) => (s.rights = {}))).toEqual(['/spec/rights required show_bonus', '/spec/rights required show_favor'])
  })

  it('requires each rights block when its show flag is true, with its own required fields', () => {
    const rights = (r: Record<string, unknown>) => withSpec((s) => (s.rights = {show_bonus: false, show_favor: false, ...r}))
    expect(rights({show_bonus: true})).toEqual(['/spec/rights required bonus'])
    expect(rights({show_bonus: true, bonus: {init_bonus: 0}})).toEqual(['/spec/rights/bonus required bonus_cost_word', '/spec/rights/bonus required bonus_value_word'])
    expect(rights({show_bonus: true, bonus: {init_bonus: 0, bonus_value_word: '积分', bonus_cost_word: '100积分=1元'}})).toEqual([])
    expect(rights({show_favor: true})).toEqual(['/spec/rights required favor'])
    expect(rights({show_favor: true, favor: {}})).toEqual(['/spec/rights/favor required show_coupon'])
    expect(rights({show_favor: true, favor: {show_coupon: true, member_price_title: 'VIP_PRICE'}})).toEqual(['/spec/rights/favor/member_price_title enum'])
    expect(rights({show_fapiao: true})).toEqual(['/spec/rights required fapiao'])
    expect(rights({show_fapiao: true, fapiao: {fapiao_jump_word: '发票'}})).toEqual(['/spec/rights/fapiao required fapiao_jump_appid', '/spec/rights/fapiao required fapiao_jump_path'])
    expect(rights({show_guide: true})).toEqual(['/spec/rights required guide'])
    expect(rights({show_guide: true, guide: {staff_name: '小何'}})).toEqual([])
  })

  it('refuses a points jump appid without its path (seed 003 "积分跳转path为空")', () => {
    const bonus = {init_bonus: 0, bonus_value_word: '积分', bonus_cost_word: '100积分=1元', bonus_jump_appid: 'wx3b0c7a1e5d9f2468'}
    expect(withSpec((s) => (s.rights = {show_bonus: true, show_favor: false, bonus}))).toEqual(['/spec/rights/bonus dependencies bonus_jump_path'])
  })
})

describe('MemberCard schema: the seed bodies written as specs', () => {
  it('accepts the seed 003 rights body as the rights block', () => {
    expect(withSpec((s) => (s.rights = readFixture('003-membercard-open-rights.request.json')))).toEqual([])
  })

  it('seed 001 contradiction: its PATCH example sends FIX_TIME_RANGE without a begin time but with FIX_TERM fields; cardform rejects exactly that', () => {
    // A PATCH body is partial; as a spec it needs the create-only fields the PATCH does not carry.
    const spec = {...readFixture('001-membercard-open-patch.request.json'), brand: base.brand, code_type: 'BAR_CODE', code_mode: 'SYSTEM_ALLOCATE'}
    expect(specProblems('MemberCard', spec)).toEqual([
      '/spec/date_information required available_begin_time',
      '/spec/date_information/available_day_after_receive false schema',
      '/spec/date_information/wait_days_after_receive false schema',
    ])
    // The documented resolution: a FIX_TIME_RANGE spec gives both times and no day counts.
    const resolved = clone(spec) as Record<string, any>
    resolved.date_information = {type: 'FIX_TIME_RANGE', available_begin_time: '2020-05-20T13:29:35.120+08:00', available_end_time: '2030-05-20T13:29:35.120+08:00'}
    expect(specProblems('MemberCard', resolved)).toEqual([])
  })
})
