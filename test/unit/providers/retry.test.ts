import {describe, expect, it} from 'vitest'
import {
  DEFAULT_RETRY_OPTIONS,
  backoffDelay,
  classifyTransportError,
  decideRetry,
  isIdempotentMethod,
  parseRetryAfter,
  runAttempts,
  type AttemptOutcome,
  type RetryOptions,
} from '../../../engine/providers/wechatpay/retry.js'

const options: RetryOptions = {maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 1_000, maxRetryAfterMs: 5_000}
const almostOne = () => 0.999999

describe('backoffDelay', () => {
  it('doubles the ceiling with each retry', () => {
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, options, almostOne))).toEqual([99, 199, 399, 799])
  })

  it('never exceeds the cap', () => {
    expect(backoffDelay(10, options, almostOne)).toBe(999)
    expect(backoffDelay(60, options, almostOne)).toBe(999)
  })

  it('draws the full jitter range down to zero', () => {
    expect(backoffDelay(3, options, () => 0)).toBe(0)
    expect(backoffDelay(3, options, () => 0.5)).toBe(200)
  })
})

describe('parseRetryAfter', () => {
  const now = Date.parse('2025-01-01T00:00:00Z')

  it('reads delta-seconds', () => {
    expect(parseRetryAfter('3', now)).toBe(3_000)
    expect(parseRetryAfter(' 0 ', now)).toBe(0)
  })

  it('reads an HTTP date relative to now', () => {
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:07 GMT', now)).toBe(7_000)
  })

  it('treats a date in the past as no wait', () => {
    expect(parseRetryAfter('Tue, 31 Dec 2024 23:59:00 GMT', now)).toBe(0)
  })

  it('ignores what it cannot read', () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined()
    expect(parseRetryAfter('', now)).toBeUndefined()
    expect(parseRetryAfter('1.5', now)).toBeUndefined()
    expect(parseRetryAfter('-2', now)).toBeUndefined()
    expect(parseRetryAfter('soon', now)).toBeUndefined()
  })
})

describe('classifyTransportError', () => {
  it('knows a refused connection never sent the request', () => {
    expect(classifyTransportError(Object.assign(new Error('x'), {code: 'ECONNREFUSED'}))).toMatchObject({sent: 'no'})
    expect(classifyTransportError(Object.assign(new Error('x'), {code: 'UND_ERR_CONNECT_TIMEOUT'}))).toMatchObject({sent: 'no'})
  })

  it('treats a reset, a closed socket and timeouts as possibly sent', () => {
    for (const code of ['ECONNRESET', 'UND_ERR_SOCKET', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'EPIPE']) {
      expect(classifyTransportError(Object.assign(new Error('x'), {code}))).toMatchObject({code, sent: 'maybe'})
    }
  })

  it('looks through an error cause', () => {
    const wrapped = new Error('fetch failed', {cause: Object.assign(new Error('reset'), {code: 'ECONNRESET'})})
    expect(classifyTransportError(wrapped)).toMatchObject({code: 'ECONNRESET'})
  })

  it('leaves other errors alone', () => {
    expect(classifyTransportError(new TypeError('bug'))).toBeUndefined()
    expect(classifyTransportError('string')).toBeUndefined()
  })
})

describe('decideRetry', () => {
  const status = (s: number, retryAfterMs?: number): AttemptOutcome => ({kind: 'status', status: s, retryAfterMs})
  const transport = (code: string, sent: 'no' | 'maybe'): AttemptOutcome => ({
    kind: 'transport',
    failure: {code, reason: code, sent},
  })
  const decide = (outcome: AttemptOutcome, idempotent: boolean, attempt = 1) =>
    decideRetry({attempt, outcome, idempotent, options, random: () => 0.5})

  it('retries 429 and 500, 502, 503, 504 on idempotent requests', () => {
    for (const s of [429, 500, 502, 503, 504]) expect(decide(status(s), true).retry).toBe(true)
  })

  it('does not retry client errors or other statuses', () => {
    for (const s of [400, 401, 403, 404, 409, 501]) expect(decide(status(s), true).retry).toBe(false)
  })

  it('does not retry a 5xx of a non-idempotent POST', () => {
    expect(decide(status(500), false)).toMatchObject({retry: false})
  })

  it('retries a 429 even when not idempotent, because the API did not accept the request', () => {
    expect(decide(status(429), false).retry).toBe(true)
  })

  it('does not retry a non-idempotent request after a reset', () => {
    expect(decide(transport('ECONNRESET', 'maybe'), false).retry).toBe(false)
    expect(decide(transport('ECONNRESET', 'maybe'), true).retry).toBe(true)
  })

  it('retries a refused connection even when not idempotent', () => {
    expect(decide(transport('ECONNREFUSED', 'no'), false).retry).toBe(true)
  })

  it('stops after maxAttempts', () => {
    expect(decide(status(503), true, 4).retry).toBe(true)
    expect(decide(status(503), true, 5)).toMatchObject({retry: false})
  })

  it('waits exactly the Retry-After when given', () => {
    expect(decide(status(429, 2_000), true)).toEqual({retry: true, delayMs: 2_000, reason: 'status 429, Retry-After'})
  })

  it('gives up rather than wait a Retry-After beyond the limit', () => {
    expect(decide(status(429, 6_000), true).retry).toBe(false)
  })

  it('uses the jittered backoff otherwise', () => {
    expect(decide(status(500), true, 2)).toEqual({retry: true, delayMs: 100, reason: 'status 500'})
  })
})

describe('isIdempotentMethod', () => {
  it('treats POST alone as unsafe to repeat', () => {
    expect(['GET', 'patch', 'DELETE', 'PUT'].every(isIdempotentMethod)).toBe(true)
    expect(isIdempotentMethod('POST')).toBe(false)
  })
})

describe('runAttempts', () => {
  it('sleeps the decided delays and returns the first success', async () => {
    const slept: number[] = []
    let calls = 0
    const value = await runAttempts({
      idempotent: true,
      options,
      random: () => 0.5,
      sleep: async (ms) => {
        slept.push(ms)
      },
      attempt: async (n) => {
        calls++
        return n < 3 ? {ok: false, outcome: {kind: 'status', status: 503}, error: () => new Error('503')} : {ok: true, value: 'done'}
      },
    })
    expect(value).toBe('done')
    expect(calls).toBe(3)
    expect(slept).toEqual([50, 100])
  })

  it('throws the last error with the attempt count when it gives up', async () => {
    await expect(
      runAttempts({
        idempotent: true,
        options: {...options, maxAttempts: 2},
        random: () => 0,
        sleep: async () => {},
        attempt: async () => ({ok: false, outcome: {kind: 'status', status: 500}, error: (n) => new Error(`failed after ${n}`)}),
      }),
    ).rejects.toThrow('failed after 2')
  })

  it('defaults to five attempts', () => {
    expect(DEFAULT_RETRY_OPTIONS.maxAttempts).toBe(5)
  })
})
