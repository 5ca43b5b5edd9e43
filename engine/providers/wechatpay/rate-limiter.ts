/**
 * Client-side rate limiting: a token bucket per merchant and API family, shared by every client of that merchant in
 * the process, so a large refresh paces itself instead of collecting 429s.
 */

export interface RateLimit {
  /** Sustained requests per second. */
  qps: number
  /** Requests that may go out back to back after an idle period. */
  burst: number
}

export type RateLimitFamily = 'membercard-open' | 'brand-partner' | 'media' | 'other'

/**
 * Defaults per family. burst 1 spaces requests evenly: the server's window is not documented, and evenly spaced
 * requests stay under "N per second" whether it counts fixed or sliding seconds.
 */
export const DEFAULT_RATE_LIMITS: Readonly<Record<RateLimitFamily, RateLimit>> = {
  // F: "接口限频:按服务商商户号维度 5次/秒" (reference §3; invalidate allows 10/s, the stricter 5/s covers it).
  'brand-partner': {qps: 5, burst: 1},
  // I: no limit is published for membercard-open (reference §3). 5/s is an inference: the documented limit of the
  // sister family, conservative enough not to trip an unknown limit.
  'membercard-open': {qps: 5, burst: 1},
  // F: the image upload is "limited to 100 requests per minute" (reference §1c). A bucket lets burst + qps·60 requests
  // into any 60 s window, whether the server counts fixed or sliding minutes: 5 + 1.5·60 = 95, 5 under the limit to
  // absorb clock and latency jitter between us and the server.
  media: {qps: 1.5, burst: 5},
  // I: any other APIv3 path (none is called today) gets the same conservative pace.
  other: {qps: 5, burst: 1},
}

export function rateLimitFamilyOf(path: string): RateLimitFamily {
  if (path.startsWith('/v3/brand/partner/')) return 'brand-partner'
  if (path.startsWith('/v3/marketing/membercard-open/')) return 'membercard-open'
  if (path.startsWith('/v3/marketing/favor/media/')) return 'media'
  return 'other'
}

/**
 * The limit a client paces a family at: its override when it has one, the family's default otherwise. The media
 * family's limit is documented per minute (reference §1c) and an override is a requests-per-second figure meant for
 * the card APIs (an embedded emulator's 10 000/s, say), so there an override may only tighten the default.
 */
export function effectiveRateLimit(family: RateLimitFamily, override: RateLimitOverride | undefined): RateLimit {
  const documented = DEFAULT_RATE_LIMITS[family]
  if (override === undefined) return documented
  if (family !== 'media') return {qps: override.qps, burst: override.burst ?? 1}
  // An override without a burst leaves the documented one: a qps figure for the card APIs says nothing about bursts
  // of uploads (with burst 1, three images took 1.3 s even against a 1000/s override).
  return {qps: Math.min(override.qps, documented.qps), burst: Math.min(override.burst ?? documented.burst, documented.burst)}
}

/** A rate limit given in configuration or as a client option: the burst is optional. */
export type RateLimitOverride = Pick<RateLimit, 'qps'> & Partial<Pick<RateLimit, 'burst'>>

export function validateRateLimit(limit: RateLimit, where: string): void {
  if (!(Number.isFinite(limit.qps) && limit.qps > 0)) {
    throw new RangeError(`rate limit qps must be a positive number, got ${limit.qps}: ${where}`)
  }
  if (!(Number.isInteger(limit.burst) && limit.burst >= 1)) {
    throw new RangeError(`rate limit burst must be an integer of at least 1, got ${limit.burst}: ${where}`)
  }
}

export type Sleep = (ms: number) => Promise<void>

export const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * A token bucket that hands out reservations: a caller takes a token now (the balance may go negative) and is told
 * how long to wait for it. Waiting is one timer per caller, never a polling loop, and callers are served in the
 * order they asked.
 */
export class TokenBucket {
  private limit: RateLimit
  private tokens: number
  private updatedAt: number

  constructor(
    limit: RateLimit,
    private readonly clock: () => number = Date.now,
    private readonly sleep: Sleep = realSleep,
  ) {
    validateRateLimit(limit, 'token bucket')
    this.limit = {...limit}
    this.tokens = limit.burst
    this.updatedAt = clock()
  }

  get current(): RateLimit {
    return {...this.limit}
  }

  /** Change the limit in place; callers already waiting keep their reservations. */
  configure(limit: RateLimit): void {
    validateRateLimit(limit, 'token bucket')
    this.refill()
    this.limit = {...limit}
    this.tokens = Math.min(this.tokens, limit.burst)
  }

  /** Take one token; returns the milliseconds to wait before using it (0 when it is available now). */
  reserve(): number {
    this.refill()
    this.tokens -= 1
    // Round up (never early), but not a float's 600.0000000001 up to 601.
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.limit.qps) * 1000 - 1e-6)
  }

  async acquire(): Promise<void> {
    const wait = this.reserve()
    if (wait > 0) await this.sleep(wait)
  }

  private refill(): void {
    const now = this.clock()
    const elapsed = Math.max(0, now - this.updatedAt)
    this.updatedAt = now
    this.tokens = Math.min(this.limit.burst, this.tokens + (elapsed / 1000) * this.limit.qps)
  }
}

/**
 * Buckets keyed by merchant and family. When two clients of one merchant ask for different limits, the stricter
 * wins (the smaller qps and burst): the limit belongs to the merchant, not to a client.
 */
export class RateLimiterRegistry {
  private readonly buckets = new Map<string, TokenBucket>()

  constructor(
    private readonly clock: () => number = Date.now,
    private readonly sleep: Sleep = realSleep,
  ) {}

  bucketFor(mchid: string, family: RateLimitFamily, limit: RateLimit): TokenBucket {
    const key = `${mchid}\u0000${family}`
    const existing = this.buckets.get(key)
    if (existing === undefined) {
      const bucket = new TokenBucket(limit, this.clock, this.sleep)
      this.buckets.set(key, bucket)
      return bucket
    }
    const now = existing.current
    if (limit.qps < now.qps || limit.burst < now.burst) {
      existing.configure({qps: Math.min(limit.qps, now.qps), burst: Math.min(limit.burst, now.burst)})
    }
    return existing
  }
}

/** The process-wide registry clients use unless given their own. */
export const sharedRateLimiters = new RateLimiterRegistry()
