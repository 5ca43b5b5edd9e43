import {describe, expect, it} from 'vitest'
import {CARDFORM_KEYWORDS, createAjv} from '../../../engine/spec/ajv.js'

describe('createAjv', () => {
  it('registers every x-cardform keyword as annotation-only: they never change validity', () => {
    const ajv = createAjv()
    const validate = ajv.compile({
      type: 'object',
      'x-cardform-kind': {family: 'aggregator', remove: 'none', create_only: true},
      properties: {
        a: {type: 'boolean', 'x-cardform-one-way': true, 'x-cardform-server-default': false, 'x-cardform-immutable': {when: [{from: true}]}},
        b: {type: 'string', 'x-cardform-server-computed': true, 'x-cardform-managed': true, 'x-cardform-long-text': true, 'x-cardform-write-only': true, 'x-cardform-patch-only': true, 'x-cardform-endpoint': 'rights'},
        c: {type: 'array', 'x-cardform-list-key': 'name'},
        d: {type: 'string', 'x-cardform-title': true},
        e: {type: 'string', 'x-cardform-image': {formats: ['png'], max_bytes: 10, width: 1, height: 1, pixels: 'required'}},
        f: {type: 'string', 'x-cardform-review': {pending: ['P'], failed: ['F'], approved: ['A']}},
      },
    })
    expect(validate({a: false, b: 'x', c: [], d: 'y', e: 'z', f: 'P'})).toBe(true)
    expect(CARDFORM_KEYWORDS.map((k) => k.keyword)).toHaveLength(14)
  })

  it('rejects a misspelt x-cardform keyword (strict mode)', () => {
    expect(() => createAjv().compile({type: 'string', 'x-cardform-imutable': true})).toThrow('unknown keyword: "x-cardform-imutable"')
  })

  it('rejects malformed keyword values when compiling', () => {
    const ajv = createAjv()
    expect(() => ajv.compile({type: 'string', 'x-cardform-immutable': {when: []}})).toThrow('keyword "x-cardform-immutable" value is invalid')
    expect(() => ajv.compile({type: 'string', 'x-cardform-one-way': {off: 1}})).toThrow('keyword "x-cardform-one-way" value is invalid')
    expect(() => ajv.compile({type: 'string', 'x-cardform-long-text': false})).toThrow('keyword "x-cardform-long-text" value is invalid')
    expect(() => ajv.compile({type: 'string', 'x-cardform-review': {pending: ['P']}})).toThrow('keyword "x-cardform-review" value is invalid')
    expect(() => ajv.compile({type: 'string', 'x-cardform-title': 'title'})).toThrow('keyword "x-cardform-title" value is invalid')
    expect(() => ajv.compile({type: 'object', 'x-cardform-kind': {family: 'membercard-open', remove: 'delete', create_only: false}})).toThrow(
      'keyword "x-cardform-kind" value is invalid',
    )
  })

  it('checks RFC 3339 date-time and uri formats', () => {
    const validate = createAjv().compile({type: 'object', properties: {t: {type: 'string', format: 'date-time'}, u: {type: 'string', format: 'uri'}}})
    expect(validate({t: '2020-05-20T13:29:35.120+08:00', u: 'https://a.cn/x'})).toBe(true)
    expect(validate({t: '2020-05-20T13:29:35'})).toBe(false)
    expect(validate({u: 'not a uri'})).toBe(false)
  })

  it('reports all errors, not only the first', () => {
    const validate = createAjv().compile({type: 'object', required: ['a', 'b'], properties: {a: {type: 'string'}, b: {type: 'string'}}})
    validate({})
    expect(validate.errors).toHaveLength(2)
  })
})
