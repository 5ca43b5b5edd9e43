import {describe, expect, it} from 'vitest'
import {
  DEFAULT_RATE_LIMITS,
  RateLimiterRegistry,
  TokenBucket,
  effectiveRateLimit,
  rateLimitFamilyOf,
} from '../../../engine/providers/wechatpay/rate-limiter.js'

/** A clock tests move by hand; `sleep` advances it, so waiting costs no real time and never polls. */
function manualTime() {
  let now = 1_000_000
  const sleeps: number[] = []
  return {
    clock: () => now,
    advance: (ms: number) => {
      now += ms
    },
    sleep: async (ms: number) => {
      sleeps.push(ms)
      now += ms
    },
    sleeps,
  }
}

describe('TokenBucket', () => {
  it('lets the burst through at once, then spaces requests at 1/qps', () => {
    const t = manualTime()
    const bucket = new TokenBucket({qps: 5, burst: 2}, t.clock, t.sleep)
    expect([bucket.reserve(), bucket.reserve(), bucket.reserve(), bucket.reserve()]).toEqual([0, 0, 200, 400])
  })

  it('refills with time, up to the burst and no further', () => {
    const t = manualTime()
    const bucket = new TokenBucket({qps: 10, burst: 3}, t.clock, t.sleep)
    for (let i = 0; i < 3; i++) bucket.reserve()
    t.advance(10_000)
    expect([bucket.reserve(), bucket.reserve(), bucket.reserve(), bucket.reserve()]).toEqual([0, 0, 0, 100])
  })

  it('awaits one timer per waiting caller instead of polling', async () => {
    const t = manualTime()
    const sleeps: number[] = []
    const bucket = new TokenBucket({qps: 4, burst: 1}, t.clock, async (ms) => {
      sleeps.push(ms)
    })
    await Promise.all([bucket.acquire(), bucket.acquire(), bucket.acquire()])
    expect(sleeps).toEqual([250, 500])
  })

  it('keeps any one-second window within qps over a long run at burst 1', () => {
    const t = manualTime()
    const qps = 5
    const bucket = new TokenBucket({qps, burst: 1}, t.clock, t.sleep)
    const start = t.clock()
    const sendTimes = Array.from({length: 200}, () => start + bucket.reserve())
    for (const at of sendTimes) {
      const inWindow = sendTimes.filter((s) => s >= at && s < at + 1000).length
      expect(inWindow).toBeLessThanOrEqual(qps)
    }
    expect(sendTimes.at(-1)! - start).toBe(199 * 200)
  })

  it('refuses a limit that is not positive', () => {
    expect(() => new TokenBucket({qps: 0, burst: 1})).toThrow(/qps must be a positive number/)
    expect(() => new TokenBucket({qps: 1, burst: 0})).toThrow(/burst must be an integer/)
  })
})

describe('RateLimiterRegistry', () => {
  it('gives clients of one merchant and family the same bucket', () => {
    const registry = new RateLimiterRegistry()
    const a = registry.bucketFor('1900000001', 'brand-partner', {qps: 5, burst: 1})
    expect(registry.bucketFor('1900000001', 'brand-partner', {qps: 5, burst: 1})).toBe(a)
    expect(registry.bucketFor('1900000002', 'brand-partner', {qps: 5, burst: 1})).not.toBe(a)
    expect(registry.bucketFor('1900000001', 'membercard-open', {qps: 5, burst: 1})).not.toBe(a)
  })

  it('applies the stricter limit when clients disagree', () => {
    const registry = new RateLimiterRegistry()
    registry.bucketFor('1900000001', 'other', {qps: 50, burst: 5})
    const shared = registry.bucketFor('1900000001', 'other', {qps: 10, burst: 8})
    expect(shared.current).toEqual({qps: 10, burst: 5})
  })
})

describe('family defaults', () => {
  it('uses the documented 5/s for brand partner calls', () => {
    expect(DEFAULT_RATE_LIMITS['brand-partner'].qps).toBe(5)
  })

  it('classifies paths by family', () => {
    expect(rateLimitFamilyOf('/v3/brand/partner/card-member/cards')).toBe('brand-partner')
    expect(rateLimitFamilyOf('/v3/marketing/membercard-open/cards/x')).toBe('membercard-open')
    expect(rateLimitFamilyOf('/v3/marketing/favor/media/image-upload')).toBe('media')
    expect(rateLimitFamilyOf('/v3/certificates')).toBe('other')
  })

  it('keeps image uploads under the documented 100 per minute in every 60 s window', () => {
    const t = manualTime()
    const bucket = new TokenBucket(DEFAULT_RATE_LIMITS.media, t.clock, t.sleep)
    const start = t.clock()
    const sendTimes = Array.from({length: 400}, () => start + bucket.reserve())
    for (const at of sendTimes) {
      expect(sendTimes.filter((s) => s >= at && s < at + 60_000).length).toBeLessThanOrEqual(100)
    }
    // …and not far under it: the first minute from a cold start lets the burst of 5 and 89 paced ones through.
    expect(sendTimes.filter((s) => s < start + 60_000).length).toBe(94)
  })

  it('lets an override only tighten the media limit, and replace the others', () => {
    const loose = {qps: 10_000, burst: 1}
    expect(effectiveRateLimit('media', loose)).toEqual({qps: 1.5, burst: 1})
    expect(effectiveRateLimit('media', {qps: 0.5, burst: 20})).toEqual({qps: 0.5, burst: 5})
    expect(effectiveRateLimit('media', undefined)).toEqual(DEFAULT_RATE_LIMITS.media)
    expect(effectiveRateLimit('membercard-open', loose)).toEqual(loose)
    expect(effectiveRateLimit('brand-partner', undefined)).toEqual(DEFAULT_RATE_LIMITS['brand-partner'])
  })

  it('keeps the documented upload burst when an override gives only a qps (as cardform.yaml rate_limit does)', () => {
    expect(effectiveRateLimit('media', {qps: 1000})).toEqual(DEFAULT_RATE_LIMITS.media)
    expect(effectiveRateLimit('membercard-open', {qps: 1000})).toEqual({qps: 1000, burst: 1})
  })
})
