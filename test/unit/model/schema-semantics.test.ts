import {copyFileSync, mkdtempSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import {schemasDir} from '../../../engine/paths.js'
import {
  KIND_FILES,
  KIND_NAMES,
  KindSchemaError,
  loadKindSchemas,
  loadKindSemantics,
  readKindSemantics,
  type FieldSemantics,
  type KindSemantics,
} from '../../../engine/model/schema-semantics.js'

const semantics = loadKindSemantics()

/** Paths of the fields whose semantics satisfy `pick`, sorted. */
function pathsWith(kind: KindSemantics, pick: (f: FieldSemantics) => unknown): string[] {
  return [...kind.fields].filter(([, f]) => pick(f) !== undefined).map(([p]) => p).sort()
}

describe('loadKindSchemas', () => {
  it('reads one schema per kind, keyed by kind name', () => {
    const schemas = loadKindSchemas()
    expect(Object.keys(schemas).sort()).toEqual([...KIND_NAMES].sort())
    for (const kind of KIND_NAMES) expect((schemas[kind].properties as any).kind.const).toBe(kind)
  })

  it('names the file when a schema is missing', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cardform-schemas-'))
    copyFileSync(path.join(schemasDir, KIND_FILES.MemberCard), path.join(dir, KIND_FILES.MemberCard))
    expect(() => loadKindSchemas(dir)).toThrow(KindSchemaError)
    expect(() => loadKindSchemas(dir)).toThrow(`cannot read the BrandMemberCard schema: ${path.join(dir, KIND_FILES.BrandMemberCard)}`)
  })

  it('refuses a file that describes another kind', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cardform-schemas-'))
    for (const kind of KIND_NAMES) copyFileSync(path.join(schemasDir, KIND_FILES[kind]), path.join(dir, KIND_FILES[kind]))
    copyFileSync(path.join(schemasDir, KIND_FILES.MemberCard), path.join(dir, KIND_FILES.AggregatorMemberCard))
    expect(() => loadKindSchemas(dir)).toThrow('schema does not describe kind AggregatorMemberCard')
  })
})

describe('readKindSemantics on the real schemas', () => {
  it('reads the kind-level declarations', () => {
    expect(semantics.MemberCard).toMatchObject({kind: 'MemberCard', family: 'membercard-open', remove: 'delete', createOnly: false, patchResponse: 204})
    expect(semantics.BrandMemberCard).toMatchObject({kind: 'BrandMemberCard', family: 'brand-partner', remove: 'invalidate', createOnly: false, patchResponse: 200})
    expect(semantics.AggregatorMemberCard).toMatchObject({kind: 'AggregatorMemberCard', family: 'aggregator', remove: 'none', createOnly: true})
    expect(semantics.AggregatorMemberCard.patchResponse).toBeUndefined()
  })

  it('finds exactly the declared one-way fields, with the value they may not leave', () => {
    const oneWay = (kind: KindSemantics) => Object.fromEntries([...kind.fields].filter(([, f]) => f.oneWay).map(([p, f]) => [p, f.oneWay]))
    expect(oneWay(semantics.MemberCard)).toEqual({
      'balance_information.need_balance': {on: true},
      'rights.show_bonus': {on: true},
      'rights.show_favor': {on: true},
    })
    expect(oneWay(semantics.BrandMemberCard)).toEqual({})
    expect(oneWay(semantics.AggregatorMemberCard)).toEqual({supply_bonus: {on: 1}, supply_balance: {on: 1}})
  })

  it('finds the immutable fields, including the conditional code_mode rule', () => {
    expect(pathsWith(semantics.MemberCard, (f) => f.immutable)).toEqual(['brand', 'code_mode'])
    expect(semantics.MemberCard.fields.get('brand')?.immutable).toBe(true)
    expect(semantics.MemberCard.fields.get('code_mode')?.immutable).toEqual({when: [{from: 'SYSTEM_ALLOCATE'}, {to: 'SYSTEM_ALLOCATE'}]})
    expect(pathsWith(semantics.BrandMemberCard, (f) => f.immutable)).toEqual(['appid', 'brand_id', 'card_type', 'code_mode', 'code_type'])
    expect(pathsWith(semantics.AggregatorMemberCard, (f) => f.immutable)).toEqual([])
  })

  it('finds the one field each kind is named by (what cardform query names imported cards after)', () => {
    expect(pathsWith(semantics.MemberCard, (f) => f.title)).toEqual(['title'])
    expect(pathsWith(semantics.BrandMemberCard, (f) => f.title)).toEqual(['card_title'])
    expect(pathsWith(semantics.AggregatorMemberCard, (f) => f.title)).toEqual(['title'])
  })

  it('finds the review status field of the reviewed kind only, with what its values mean', () => {
    expect(semantics.MemberCard.fields.get('status')?.review).toEqual({pending: ['NOT_APPROVE'], failed: ['APPROVE_FAIL'], approved: ['APPROVED']})
    expect(pathsWith(semantics.BrandMemberCard, (f) => f.review)).toEqual([])
    expect(pathsWith(semantics.AggregatorMemberCard, (f) => f.review)).toEqual([])
  })

  it('finds the server-computed fields', () => {
    expect(pathsWith(semantics.MemberCard, (f) => f.serverComputed)).toEqual(['card_id', 'create_time', 'remain_quantity', 'status', 'update_time'])
    expect(pathsWith(semantics.BrandMemberCard, (f) => f.serverComputed)).toEqual(['card_id', 'create_time', 'state', 'update_time'])
    expect(pathsWith(semantics.AggregatorMemberCard, (f) => f.serverComputed)).toEqual(['card_id'])
  })

  it('finds the write-only rights block and its endpoint', () => {
    expect(pathsWith(semantics.MemberCard, (f) => f.writeOnly)).toEqual([
      'date_information.wait_days_after_receive',
      'need_dynamic_code',
      'rights',
      'user_information_form.can_modify_after_activate',
    ])
    expect(pathsWith(semantics.MemberCard, (f) => f.patchOnly)).toEqual(['user_information_form.can_modify_after_activate'])
    expect(pathsWith(semantics.MemberCard, (f) => f.endpoint)).toEqual(['rights'])
    expect(semantics.MemberCard.fields.get('rights')).toEqual({writeOnly: true, endpoint: 'rights'})
  })

  it('finds out_request_no as managed in both API families', () => {
    expect(pathsWith(semantics.MemberCard, (f) => f.managed)).toEqual(['out_request_no'])
    expect(pathsWith(semantics.BrandMemberCard, (f) => f.managed)).toEqual(['out_request_no'])
  })

  it('finds server defaults, false and 0-like values included', () => {
    const defaults = (kind: KindSemantics) => Object.fromEntries([...kind.fields].filter(([, f]) => 'serverDefault' in f).map(([p, f]) => [p, f.serverDefault]))
    expect(defaults(semantics.MemberCard)).toEqual({total_quantity: 5000000, 'rights.show_fapiao': false, 'rights.show_guide': false})
    expect(defaults(semantics.BrandMemberCard)).toEqual({need_pinned: false, need_display_level: false})
    expect(defaults(semantics.AggregatorMemberCard)).toEqual({can_use_with_other_discount: 1})
  })

  it('finds long texts and keyed lists', () => {
    expect(pathsWith(semantics.MemberCard, (f) => f.longText)).toEqual(['description'])
    expect(pathsWith(semantics.BrandMemberCard, (f) => f.longText)).toEqual(['benefits', 'legal_agreement'])
    expect(pathsWith(semantics.AggregatorMemberCard, (f) => f.longText)).toEqual(['description', 'prerogative'])
    expect(semantics.MemberCard.fields.get('user_information_form.custom_field_list')?.listKey).toBe('name')
    expect(semantics.BrandMemberCard.fields.get('user_information.custom_field_list')?.listKey).toBe('name')
  })

  it.each(KIND_NAMES)('%s: every x-cardform field keyword in the file is found (none hides in a conditional)', (kind) => {
    const text = readFileSync(path.join(schemasDir, KIND_FILES[kind]), 'utf8')
    const inFile = (text.match(/"x-cardform-(?!kind)[a-z-]+"/g) ?? []).length
    const found = [...semantics[kind].fields.values()].reduce((sum, f) => sum + Object.keys(f).length, 0)
    expect(found).toBe(inFile)
  })
})

describe('readKindSemantics on malformed schemas', () => {
  const schemaWith = (field: Record<string, unknown>, kindDeclaration: unknown = {family: 'membercard-open', remove: 'delete', create_only: false, patch_response: 204}) => ({
    'x-cardform-kind': kindDeclaration,
    properties: {kind: {const: 'MemberCard'}, spec: {$ref: '#/definitions/spec'}},
    definitions: {spec: {type: 'object', properties: {a: {type: 'object', properties: {b: field}}, list: {type: 'array', items: {$ref: '#/definitions/item'}}}}, item: {type: 'object', properties: {c: {'x-cardform-long-text': true}}}},
  })

  it('walks $ref, nested properties and array items with dotted paths', () => {
    const read = readKindSemantics(schemaWith({'x-cardform-one-way': {on: 'ON'}}))
    expect([...read.fields.keys()].sort()).toEqual(['a.b', 'list[].c'])
    expect(read.fields.get('a.b')).toEqual({oneWay: {on: 'ON'}})
  })

  it('says which keyword is malformed and where', () => {
    expect(() => readKindSemantics(schemaWith({'x-cardform-immutable': {when: []}}))).toThrow('x-cardform-immutable must be true or {when: [...]}: MemberCard spec.a.b')
    expect(() => readKindSemantics(schemaWith({'x-cardform-immutable': {when: [{}]}}))).toThrow('x-cardform-immutable.when items need "from" or "to": MemberCard spec.a.b')
    expect(() => readKindSemantics(schemaWith({'x-cardform-one-way': {}}))).toThrow('x-cardform-one-way must be true or {on: value}: MemberCard spec.a.b')
    expect(() => readKindSemantics(schemaWith({'x-cardform-server-computed': false}))).toThrow('x-cardform-server-computed must be true: MemberCard spec.a.b')
    expect(() => readKindSemantics(schemaWith({'x-cardform-list-key': ''}))).toThrow('x-cardform-list-key must be a non-empty string: MemberCard spec.a.b')
  })

  it('refuses a missing or incomplete x-cardform-kind', () => {
    expect(() => readKindSemantics(schemaWith({}, null))).toThrow('x-cardform-kind is missing: MemberCard')
    expect(() => readKindSemantics(schemaWith({}, {family: 'membercard-open', remove: 'delete', create_only: false}))).toThrow('patch_response is required unless create_only')
    expect(() => readKindSemantics(schemaWith({}, {family: 'other', remove: 'delete', create_only: true}))).toThrow('x-cardform-kind.family')
  })

  it('refuses a reference outside the schema', () => {
    const schema = schemaWith({$ref: 'other.json#/x'})
    expect(() => readKindSemantics(schema)).toThrow('only local $ref is supported: MemberCard spec.a.b')
  })
})

describe('readKindSemantics on a cyclic schema', () => {
  it('fails instead of looping', () => {
    const schema = {
      'x-cardform-kind': {family: 'aggregator', remove: 'none', create_only: true},
      properties: {kind: {const: 'AggregatorMemberCard'}, spec: {$ref: '#/definitions/node'}},
      definitions: {node: {type: 'object', properties: {child: {$ref: '#/definitions/node'}}}},
    }
    expect(() => readKindSemantics(schema)).toThrow('a $ref cycle?')
  })
})
