import {mkdirSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import {adoptedDocument, checkSpecFileText, renderSpecFile, type AdoptedCard} from '../../../engine/adopt/spec-file.js'
import {specFromLive, titleOf} from '../../../engine/adopt/spec-from-live.js'
import {loadKindSchemas, loadKindSemantics, readKindSemantics} from '../../../engine/model/schema-semantics.js'
import {createDefaultSpecValidator} from '../../../engine/spec/default-validator.js'
import {loadProject} from '../../../engine/spec/load-project.js'

const schemas = loadKindSchemas()
const semantics = loadKindSemantics()
const validator = createDefaultSpecValidator()

/** A MemberCard as the membercard-open GET answers (seed 001's fields), plus a key the schema does not know. */
function liveMemberCard(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    out_request_no: 'merchant-1234',
    card_id: 'pXv3K-2j1x9A',
    remain_quantity: 5000000,
    create_time: '2026-05-20T13:29:35.120+08:00',
    update_time: '2026-05-21T10:00:00.000+08:00',
    status: 'APPROVED',
    code_mode: 'SYSTEM_ALLOCATE',
    total_quantity: 5000000,
    title: '悦享咖啡会员卡',
    appid: 'wx3b0c7a1e5d9f2468',
    brand: {brand_id: '1001622624', display_name: '悦享咖啡'},
    logo_url: 'https://wxpaylogo.qpic.cn/wxpaylogo/logo/0',
    background_picture_url: 'https://wxpaylogo.qpic.cn/wxpaylogo/bg/0',
    description: '1. 本卡仅限本人使用。\n2. 余额 ${不可} 提现。',
    code_type: 'QRCODE',
    date_information: {type: 'PERMANENT'},
    user_information_form: {
      common_field_list: ['USER_FORM_FLAG_MOBILE'],
      custom_field_list: [{type: 'TEXT', name: '常去门店', colour: 'red'}],
    },
    service_phone: null,
    card_style: 'NEW',
    ...over,
  }
}

function adopted(kind: 'MemberCard' | 'BrandMemberCard', live: Record<string, unknown>): AdoptedCard {
  const conversion = specFromLive(schemas[kind], semantics[kind], live)
  return {kind, name: 'imported', cardId: String(live.card_id), title: titleOf(semantics[kind], live), ...conversion}
}

describe('specFromLive', () => {
  it('drops server-computed, managed and server-default fields and keeps the rest in the schema order', () => {
    const {spec, omitted} = specFromLive(schemas.MemberCard, semantics.MemberCard, liveMemberCard())
    expect(Object.keys(spec)).toEqual([
      'appid',
      'brand',
      'logo_url',
      'title',
      'background_picture_url',
      'description',
      'code_type',
      'code_mode',
      'date_information',
      'user_information_form',
    ])
    expect(omitted.sort()).toEqual(['card_id', 'create_time', 'out_request_no', 'remain_quantity', 'status', 'total_quantity', 'update_time'])
  })

  it('keeps a value that differs from the server default', () => {
    const {spec, omitted} = specFromLive(schemas.MemberCard, semantics.MemberCard, liveMemberCard({total_quantity: 100}))
    expect(spec.total_quantity).toBe(100)
    expect(omitted).not.toContain('total_quantity')
    const brand = specFromLive(schemas.BrandMemberCard, semantics.BrandMemberCard, {card_id: 'b1', need_pinned: true, need_display_level: false})
    expect(brand.spec).toEqual({need_pinned: true})
  })

  it('drops fields the kind schema does not declare, at any depth, and names them', () => {
    const {spec, unknown} = specFromLive(schemas.MemberCard, semantics.MemberCard, liveMemberCard())
    expect(unknown).toEqual(['user_information_form.custom_field_list[].colour', 'card_style'])
    expect(spec).not.toHaveProperty('card_style')
    expect(spec.user_information_form).toEqual({common_field_list: ['USER_FORM_FLAG_MOBILE'], custom_field_list: [{type: 'TEXT', name: '常去门店'}]})
  })

  it('names the write-only fields GET cannot return, outermost only, and not where the schema rules them out', () => {
    const permanent = specFromLive(schemas.MemberCard, semantics.MemberCard, liveMemberCard())
    expect(permanent.notReadable).toEqual(['user_information_form.can_modify_after_activate', 'need_dynamic_code', 'rights'])
    expect(permanent.notReadableOneWay).toEqual(['rights.show_bonus', 'rights.show_favor'])
    const fixTerm = specFromLive(
      schemas.MemberCard,
      semantics.MemberCard,
      liveMemberCard({date_information: {type: 'FIX_TERM', available_day_after_receive: 30}, user_information_form: undefined}),
    )
    expect(fixTerm.notReadable).toEqual(['date_information.wait_days_after_receive', 'need_dynamic_code', 'rights'])
    const brand = specFromLive(schemas.BrandMemberCard, semantics.BrandMemberCard, {card_id: 'b1', card_title: '会员'})
    expect(brand.notReadable).toEqual([])
  })

  it('reads the field semantics from the schema it is given, not from a list of its own', () => {
    const schema = structuredClone(schemas.MemberCard) as any
    schema.definitions.spec.properties.service_phone['x-cardform-server-computed'] = true
    delete schema.definitions.spec.properties.total_quantity['x-cardform-server-default']
    const live = liveMemberCard({service_phone: '400-820-1234'})
    const {spec, omitted} = specFromLive(schema, readKindSemantics(schema), live)
    expect(omitted).toContain('service_phone')
    expect(spec.total_quantity).toBe(5000000)
  })
})

describe('titleOf', () => {
  it('reads the field marked x-cardform-title', () => {
    expect(titleOf(semantics.MemberCard, {title: '咖啡卡', card_title: 'x'})).toBe('咖啡卡')
    expect(titleOf(semantics.BrandMemberCard, {title: 'x', card_title: '健身卡'})).toBe('健身卡')
    expect(titleOf(semantics.MemberCard, {})).toBe('')
  })
})

describe('the generated spec file', () => {
  const card = adopted('MemberCard', liveMemberCard())
  const text = renderSpecFile(card, '../../schemas/member-card.schema.json')

  it('validates against the kind schema, as a document and as the text the loader reads', () => {
    expect(validator.checkDocument(adoptedDocument(card))).toEqual([])
    expect(checkSpecFileText(text, 'MemberCard/imported.yaml', validator)).toEqual([])
  })

  it('says which fields are not readable from WeChat Pay, above spec:', () => {
    const lines = text.split('\n')
    const spec = lines.indexOf('spec:')
    expect(lines.slice(spec - 2, spec)).toEqual([
      '# Not readable from WeChat Pay, so not written here: user_information_form.can_modify_after_activate, need_dynamic_code, rights',
      '# (set them only if you know their values; rights.show_bonus, rights.show_favor: once on, never off)',
    ])
    expect(lines[0]).toBe('# yaml-language-server: $schema=../../schemas/member-card.schema.json')
  })

  it('has no such comment when nothing is unreadable', () => {
    expect(renderSpecFile({...card, notReadable: [], notReadableOneWay: []}, 'x.json')).not.toContain('Not readable')
  })

  it('loads back to the same spec, with the title in the description and the card in import_id', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cardform-adopt-'))
    mkdirSync(path.join(dir, 'cards'))
    writeFileSync(path.join(dir, 'cardform.yaml'), 'cards: cards\n')
    writeFileSync(path.join(dir, 'cards/imported.yaml'), text)
    const project = await loadProject(dir, {env: {}})
    expect(project.diagnostics).toEqual([])
    const [doc] = project.documents
    expect(doc!.address).toBe('MemberCard.imported')
    expect(doc!.importId).toBe('pXv3K-2j1x9A')
    // `${` in a live value is written as `$${` and read back as `${`.
    expect(doc!.spec).toEqual(card.spec)
    expect(doc!.spec.description).toBe('1. 本卡仅限本人使用。\n2. 余额 ${不可} 提现。')
    expect(text).toContain('description: "imported from pXv3K-2j1x9A: 悦享咖啡会员卡"')
    expect(text).toContain('import_id: pXv3K-2j1x9A')
  })

  it('reports what does not validate (a live value outside the schema) with the loader diagnostics', () => {
    const bad = adopted('MemberCard', liveMemberCard({code_type: 'QR_CODE'}))
    const found = checkSpecFileText(renderSpecFile(bad, 'x.json'), 'MemberCard/imported.yaml', validator)
    expect(found.map((d) => [d.code, d.path])).toEqual([['schema-enum', 'spec.code_type']])
  })
})
