import {describe, expect, it} from 'vitest'
import {generateKeyPairSync} from 'node:crypto'
import {buildQueryString, formatAttemptLine, loggerFromEnv, pathSegment} from '../../../engine/providers/wechatpay/client.js'
import {requestMessage, signInThreadPool, signMessage} from '../../../engine/providers/wechatpay/signing.js'

describe('buildQueryString', () => {
  it('keeps the given order and skips undefined values', () => {
    expect(buildQueryString({brand_id: 'B1', appid: undefined, offset: 0, limit: 20})).toBe('brand_id=B1&offset=0&limit=20')
  })

  it('percent-encodes values', () => {
    expect(buildQueryString({q: 'a b&c=d/é'})).toBe('q=a%20b%26c%3Dd%2F%C3%A9')
  })

  it('is empty without a query', () => {
    expect(buildQueryString(undefined)).toBe('')
    expect(buildQueryString({a: undefined})).toBe('')
  })
})

describe('pathSegment', () => {
  it('encodes a card_id so it cannot add segments or a query', () => {
    expect(pathSegment('pbLatjvWOibDc5-TBnbUk1pD12o0')).toBe('pbLatjvWOibDc5-TBnbUk1pD12o0')
    expect(pathSegment('../x?y=1#z')).toBe('..%2Fx%3Fy%3D1%23z')
  })

  it('refuses an empty card_id', () => {
    expect(() => pathSegment('')).toThrow(/must not be empty/)
  })
})

describe('formatAttemptLine', () => {
  it('names method, path, status, duration, Request-ID, attempt and the retry decision', () => {
    expect(
      formatAttemptLine({
        method: 'GET',
        url: '/v3/marketing/membercard-open/cards/pA',
        result: '429',
        durationMs: 12.4,
        requestId: 'RID',
        attempt: 1,
        maxAttempts: 5,
        decision: {retry: true, delayMs: 150, reason: 'status 429, Retry-After'},
      }),
    ).toBe(
      'wechatpay GET /v3/marketing/membercard-open/cards/pA 429 12ms request-id=RID attempt=1/5 retry-in=150ms reason="status 429, Retry-After"',
    )
  })
})

describe('loggerFromEnv', () => {
  it('logs only when CARDFORM_LOG=debug', () => {
    expect(loggerFromEnv({CARDFORM_LOG: 'debug'})).toBeTypeOf('function')
    expect(loggerFromEnv({CARDFORM_LOG: 'info'})).toBeUndefined()
    expect(loggerFromEnv({})).toBeUndefined()
  })
})

describe('signInThreadPool', () => {
  it('produces exactly the signature of signing.ts signMessage', async () => {
    const {privateKey} = generateKeyPairSync('rsa', {modulusLength: 2048})
    const message = requestMessage({method: 'POST', url: '/v3/x?a=1', timestamp: 1554208460, nonce: 'N', body: '{"中":1}'})
    expect(await signInThreadPool(message, privateKey)).toBe(signMessage(message, privateKey))
  })
})
