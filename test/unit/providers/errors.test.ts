import {describe, expect, it} from 'vitest'
import {
  AggregatorError,
  ApiError,
  RateLimitError,
  ResponseVerificationError,
  TransportError,
  WechatPayError,
  createApiError,
  parseErrorBody,
} from '../../../engine/providers/wechatpay/errors.js'
import {readAggregatorEnvelope} from '../../../engine/providers/wechatpay/aggregator.js'

const site = {method: 'PATCH', path: '/v3/marketing/membercard-open/cards/pXX'}

describe('ApiError', () => {
  it('says what failed and where, with the Request-ID', () => {
    const e = createApiError({
      status: 400,
      bodyText: '{"code":"INVALID_REQUEST","message":"会员储值一旦展示无法关闭"}',
      requestId: '08F0B2C4D6',
      site,
      attempts: 1,
    })
    expect(e).toBeInstanceOf(ApiError)
    expect(e).toBeInstanceOf(WechatPayError)
    expect(e.message).toBe(
      'PATCH /v3/marketing/membercard-open/cards/pXX failed: 400 INVALID_REQUEST 会员储值一旦展示无法关闭 (Request-ID 08F0B2C4D6)',
    )
    expect(e).toMatchObject({status: 400, code: 'INVALID_REQUEST', requestId: '08F0B2C4D6', method: 'PATCH', path: site.path})
    // For callers that show status, code and Request-ID as fields of their own (apply), without repeating them.
    expect(e.summary).toBe('PATCH /v3/marketing/membercard-open/cards/pXX failed: 会员储值一旦展示无法关闭')
  })

  it('keeps the documented detail object', () => {
    const body = {
      code: 'SIGN_ERROR',
      message: '错误的签名,验签失败',
      detail: {field: 'signature', location: 'authorization'},
    }
    const e = createApiError({status: 401, bodyText: JSON.stringify(body), requestId: undefined, site, attempts: 1})
    expect(e.detail).toEqual(body.detail)
    expect(e.message).toBe(`${site.method} ${site.path} failed: 401 SIGN_ERROR 错误的签名,验签失败`)
  })

  it('is a RateLimitError for 429', () => {
    const e = createApiError({
      status: 429,
      bodyText: '{"code":"RATELIMIT_EXCEEDED","message":"请求未受理,请降低频率后重试"}',
      requestId: 'r',
      site,
      attempts: 5,
    })
    expect(e).toBeInstanceOf(RateLimitError)
    expect(e.attempts).toBe(5)
  })

  it('quotes a short excerpt of a body that is not the documented shape', () => {
    const html = `<html>\n<body>${'x'.repeat(500)}</body></html>`
    const parsed = parseErrorBody(html)
    expect(parsed.code).toBe('')
    expect(parsed.message.length).toBeLessThanOrEqual(201)
    expect(parsed.message).not.toContain('\n')
  })
})

describe('the other errors', () => {
  it('ResponseVerificationError says the reason and the site', () => {
    const e = new ResponseVerificationError({reason: 'response signature does not verify with PUB_KEY_ID_1', site, status: 200, requestId: 'R1'})
    expect(e.message).toBe(
      'response signature does not verify with PUB_KEY_ID_1: PATCH /v3/marketing/membercard-open/cards/pXX answered 200 (Request-ID R1); the response was rejected',
    )
  })

  it('TransportError counts the attempts', () => {
    const e = new TransportError({code: 'ECONNRESET', reason: 'connection reset', site, attempts: 3})
    expect(e.message).toBe('connection reset (ECONNRESET): PATCH /v3/marketing/membercard-open/cards/pXX after 3 attempts')
  })
})

describe('readAggregatorEnvelope', () => {
  const agg = {method: 'POST', path: '/api/customer/user/userCreateMemberCard'}

  it('returns the card_id of a successful envelope', () => {
    const text = JSON.stringify({status: 1, message: 'ok', data: {errcode: 0, errmsg: 'ok', card_id: 'pxHuEuNhCy6ZXQ0NuzZS2ZRl3YpU'}})
    expect(readAggregatorEnvelope(200, text, agg).card_id).toBe('pxHuEuNhCy6ZXQ0NuzZS2ZRl3YpU')
  })

  it('accepts data wrapped in a one-element array, as the seed prints it', () => {
    const text = JSON.stringify({status: 1, message: 'ok', data: [{errcode: 0, errmsg: 'ok', card_id: 'pA'}]})
    expect(readAggregatorEnvelope(200, text, agg).card_id).toBe('pA')
  })

  it('treats status other than 1 as an error carrying the message', () => {
    const text = JSON.stringify({status: 0, message: 'title 超过 9 个汉字'})
    expect(() => readAggregatorEnvelope(200, text, agg)).toThrow(
      new AggregatorError({httpStatus: 200, status: 0, errcode: undefined, errmsg: 'title 超过 9 个汉字', site: agg}),
    )
  })

  it('treats a non-zero errcode as an error even when status is 1', () => {
    const text = JSON.stringify({status: 1, message: 'ok', data: {errcode: 40001, errmsg: 'invalid credential'}})
    try {
      readAggregatorEnvelope(200, text, agg)
      expect.unreachable()
    } catch (e) {
      expect(e).toBeInstanceOf(AggregatorError)
      expect((e as AggregatorError).errcode).toBe(40001)
      expect((e as Error).message).toBe(
        'POST /api/customer/user/userCreateMemberCard failed: HTTP 200, status 1, errcode 40001 invalid credential',
      )
    }
  })
})
