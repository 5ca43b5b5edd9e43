import {describe, expect, it} from 'vitest'
import {createAjv} from '../../../engine/spec/ajv.js'
import {clone, readFixture, readSchema, specProblems} from './validate.js'

const composed = readFixture('000-aggregator-create.composed.json')

function withSpec(change: (spec: Record<string, any>) => void): string[] {
  const spec = clone(composed) as Record<string, any>
  change(spec)
  return specProblems('AggregatorMemberCard', spec)
}

const bonusFields = ['cost_bonus_unit', 'cost_money_unit', 'increase_bonus', 'init_increase_bonus', 'least_money_to_use_bonus', 'max_increase_bonus', 'max_reduce_bonus', 'reduce_money']

describe('AggregatorMemberCard schema', () => {
  it('accepts the body composed from seed 000 (required fields and every example value)', () => {
    expect(specProblems('AggregatorMemberCard', composed)).toEqual([])
  })

  it('requires the fields seed 000 marks with *', () => {
    expect(specProblems('AggregatorMemberCard', {})).toEqual(
      ['brand_name', 'code_type', 'color', 'description', 'logo_url', 'notice', 'prerogative', 'quantity', 'store_id', 'supply_balance', 'supply_bonus', 'terminal_type', 'title', 'type'].map(
        (p) => `/spec required ${p}`,
      ),
    )
  })

  it('limits the text lengths seed 000 gives', () => {
    expect(withSpec((s) => (s.title = '一二三四五六七八九'))).toEqual([])
    expect(withSpec((s) => (s.title = '一二三四五六七八九十'))).toEqual(['/spec/title maxLength'])
    expect(withSpec((s) => (s.brand_name = '字'.repeat(13)))).toEqual(['/spec/brand_name maxLength'])
    expect(withSpec((s) => (s.notice = '字'.repeat(17)))).toEqual(['/spec/notice maxLength'])
    expect(withSpec((s) => (s.description = '字'.repeat(1025)))).toEqual(['/spec/description maxLength'])
    expect(withSpec((s) => (s.prerogative = '字'.repeat(1025)))).toEqual(['/spec/prerogative maxLength'])
    expect(withSpec((s) => (s.abstract = '字'.repeat(9)))).toEqual(['/spec/abstract maxLength'])
    expect(withSpec((s) => (s.custom_cell1 = {name: '入口', tips: '字'.repeat(19), url: 'https://a.cn'}))).toEqual(['/spec/custom_cell1/tips maxLength'])
  })

  it('takes quantity from 1 to 100000000', () => {
    expect(withSpec((s) => (s.quantity = 100000000))).toEqual([])
    expect(withSpec((s) => (s.quantity = 0))).toEqual(['/spec/quantity minimum'])
    expect(withSpec((s) => (s.quantity = 100000001))).toEqual(['/spec/quantity maximum'])
  })

  it('takes supply_bonus and supply_balance as 0 or 1 only', () => {
    expect(withSpec((s) => (s.supply_balance = 1))).toEqual([])
    expect(withSpec((s) => (s.supply_balance = true))).toEqual(['/spec/supply_balance enum', '/spec/supply_balance type'])
    expect(withSpec((s) => (s.supply_bonus = 2))).toEqual(['/spec/supply_bonus enum'])
  })

  it('requires every points field when supply_bonus is 1', () => {
    expect(withSpec((s) => (s.supply_bonus = 1))).toEqual(bonusFields.map((f) => `/spec required ${f}`))
    expect(withSpec((s) => Object.assign(s, {supply_bonus: 1}, Object.fromEntries(bonusFields.map((f) => [f, 10]))))).toEqual([])
  })

  it('accepts only the documented enums and colours', () => {
    expect(withSpec((s) => (s.terminal_type = 'wechat'))).toEqual(['/spec/terminal_type enum'])
    expect(withSpec((s) => (s.code_type = 'CODE_TYPE_ONLY_BARCODE'))).toEqual([])
    expect(withSpec((s) => (s.code_type = 'QRCODE'))).toEqual(['/spec/code_type enum'])
    expect(withSpec((s) => (s.type = 'DATE_TYPE_FIX_TERM'))).toEqual([])
    expect(withSpec((s) => (s.type = 'PERMANENT'))).toEqual(['/spec/type enum'])
    expect(withSpec((s) => (s.color = 'Color100'))).toEqual([])
    for (const bad of ['Color000', 'Color015', 'Color110', '#FFFFFF']) expect(withSpec((s) => (s.color = bad))).toEqual(['/spec/color enum'])
    expect(withSpec((s) => (s.name_type = 'FIELD_NAME_TYPE_ACHIEVEMEN'))).toEqual([])
    expect(withSpec((s) => (s.time_limit = {type: 'MONDAY', begin_hour: 24}))).toEqual(['/spec/time_limit/begin_hour maximum'])
  })

  it('accepts business_service as a comma-separated list of the four services', () => {
    expect(withSpec((s) => (s.business_service = 'BIZ_SERVICE_DELIVER'))).toEqual([])
    expect(withSpec((s) => (s.business_service = 'BIZ_SERVICE_DELIVER, BIZ_SERVICE_FREE_PARK'))).toEqual(['/spec/business_service pattern'])
    expect(withSpec((s) => (s.business_service = 'BIZ_SERVICE_SPA'))).toEqual(['/spec/business_service pattern'])
  })

  it('has examples (the seed\'s "=" values) that satisfy their own field schemas', () => {
    const schema = readSchema('aggregator-member-card.schema.json') as any
    const ajv = createAjv()
    const properties = schema.definitions.spec.properties as Record<string, any>
    const withExamples = Object.entries(properties).filter(([, field]) => Array.isArray(field.examples))
    expect(withExamples.map(([name]) => name).sort()).toEqual(['auto_activate', 'business_service', 'custom_cell1', 'text_image_list', 'time_limit'])
    for (const [name, field] of withExamples) {
      const validate = ajv.compile({definitions: schema.definitions, ...field, $id: `urn:example:${name}`})
      for (const example of field.examples) expect(validate(example), `${name}: ${JSON.stringify(validate.errors)}`).toBe(true)
    }
  })
})
