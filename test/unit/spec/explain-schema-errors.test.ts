import {describe, expect, it} from 'vitest'
import {createAjv} from '../../../engine/spec/ajv.js'
import {suggest} from '../../../engine/spec/did-you-mean.js'
import {explainSchemaErrors} from '../../../engine/spec/explain-schema-errors.js'

function explain(schema: object, data: unknown) {
  const ajv = createAjv()
  ajv.opts.verbose = true
  const validate = ajv.compile(schema)
  expect(validate(data)).toBe(false)
  return explainSchemaErrors(validate.errors ?? [], data).map((f) => `${f.code} ${f.message}`)
}

describe('explainSchemaErrors', () => {
  const endpoint = {
    type: 'object',
    properties: {
      endpoint: {anyOf: [{type: 'string', const: 'embedded'}, {type: 'string', pattern: '^https?://'}]},
      target: {anyOf: [{type: 'object', required: ['a', 'b']}, {type: 'object', required: ['c']}]},
    },
  }

  it('collapses an anyOf into one message listing the allowed forms when no branch fits', () => {
    expect(explain(endpoint, {endpoint: 42})).toEqual(['schema-type endpoint: 42 matches none of the allowed forms (a string)'])
  })

  it('says which missing keys would satisfy an anyOf of required lists', () => {
    expect(explain(endpoint, {target: {}})).toEqual(['schema-required target needs a and b, or c'])
    expect(explain(endpoint, {target: {b: 1}})).toEqual(['schema-required target needs a, or c'])
  })

  it('keeps only the errors of the branch whose discriminating constant matches', () => {
    const schema = {
      anyOf: [
        {type: 'object', properties: {type: {const: 'A'}, size: {type: 'integer'}}, required: ['type']},
        {type: 'object', properties: {type: {const: 'B'}, name: {type: 'string'}}, required: ['type', 'name']},
      ],
    }
    expect(explain(schema, {type: 'A', size: 'big'})).toEqual(['schema-type size: "big" is a string; expected an integer'])
  })
})

describe('suggest', () => {
  it('finds a close misspelling, a swapped pair of letters and a case slip, and nothing for unrelated words', () => {
    expect(suggest('date_informaton', ['date_information', 'description'])).toBe('date_information')
    expect(suggest('tilte', ['title', 'appid'])).toBe('title')
    expect(suggest('membercard', ['MemberCard', 'BrandMemberCard'])).toBe('MemberCard')
    expect(suggest('zzz', ['title', 'appid'])).toBeUndefined()
  })
})
