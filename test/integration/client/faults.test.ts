import {generateKeyPairSync} from 'node:crypto'
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'
import type {RunningEmulator} from '../../../emulator/index.js'
import {WechatPayClient} from '../../../engine/providers/wechatpay/client.js'
import {loadCredentialsFile} from '../../../engine/providers/wechatpay/credentials.js'
import {ApiError, ResponseVerificationError} from '../../../engine/providers/wechatpay/errors.js'
import {MembercardOpenApi} from '../../../engine/providers/wechatpay/membercard-open.js'
import {RateLimiterRegistry} from '../../../engine/providers/wechatpay/rate-limiter.js'
import {Harness, membercardBody, uniqueId} from './emulator-helpers.js'
import {startProxy} from './loopback-proxy.js'

const h = new Harness()
afterEach(() => h.closeAll())

// One emulator without fault knobs serves the tests that need none; knob tests start their own.
const shared = new Harness()
let plain: RunningEmulator
beforeAll(async () => {
  plain = await shared.emulator()
})
afterAll(() => shared.closeAll())

describe('responses that must not be trusted', () => {
  it('rejects a response whose body was changed in transit', async () => {
    const emu = plain
    const seeded = await new MembercardOpenApi(h.client(emu)).create(membercardBody({title: '原始卡名'}))
    // Flip the card title inside the signed JSON; the result is still valid JSON, only the signature can tell.
    const proxy = h.track(
      await startProxy(emu.url, (_req, res) => ({
        ...res,
        body: Buffer.from(res.body.toString('utf8').replace('原始卡名', '篡改卡名'), 'utf8'),
      })),
    )
    const client = h.client(emu, {endpoint: proxy.url})
    const error = await new MembercardOpenApi(client).get(seeded.card_id).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ResponseVerificationError)
    expect((error as Error).message).toMatch(
      new RegExp(`^response signature does not verify with PUB_KEY_ID_\\d+: GET /v3/marketing/membercard-open/cards/${seeded.card_id} answered 200`),
    )
    expect((error as Error).message).not.toContain('篡改卡名')
  })

  it('rejects responses when configured with a different WeChat Pay public key', async () => {
    const emu = plain
    const client = h.client(emu, {
      verification: {
        mode: 'public-key',
        publicKeyId: emu.credentials.wechatpay_public_key_id,
        publicKey: generateKeyPairSync('rsa', {modulusLength: 2048}).publicKey,
      },
    })
    await expect(new MembercardOpenApi(client).list({limit: 1})).rejects.toThrow(/response signature does not verify/)
  })

  it('verifies in platform-certificate mode with the emulator certificate', async () => {
    const emu = plain
    const client = h.client(emu, {}, 'platform-certificate')
    const created = await new MembercardOpenApi(client).create(membercardBody())
    expect((await new MembercardOpenApi(client).get(created.card_id)).card_id).toBe(created.card_id)
  })

  it('rejects a platform-mode response signed under a serial it does not know', async () => {
    const emu = plain
    const options = loadCredentialsFile(emu.credentialsFile, {keyMode: 'platform-certificate'})
    const client = h.track(
      new WechatPayClient({
        ...options,
        rateLimit: false,
        // A platform-mode request names no serial, so the emulator signs with its platform certificate, whose
        // serial this client has not been given.
        verification: {mode: 'platform-certificate', certificates: new Map()},
      }),
    )
    await expect(client.request({method: 'GET', path: '/v3/marketing/membercard-open/cards', query: {limit: 1}})).rejects.toThrow(
      /is not a known platform certificate \(known: none\)/,
    )
  })
})

describe('clock skew', () => {
  it('is refused by the API when the client clock is 301 s fast, with a SIGN_ERROR not retried', async () => {
    const emu = plain
    for (const skew of [301_000, -301_000]) {
      const client = h.client(emu, {clock: () => Date.now() + skew})
      const error = await client.request({method: 'GET', path: '/v3/marketing/membercard-open/cards', query: {limit: 1}}).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(ApiError)
      expect(error).toMatchObject({status: 401, code: 'SIGN_ERROR', attempts: 1})
    }
  })

  it('works 299 s off, inside the window on both sides', async () => {
    const emu = plain
    for (const skew of [299_000, -299_000]) {
      const client = h.client(emu, {clock: () => Date.now() + skew})
      await expect(new MembercardOpenApi(client).list({limit: 1})).resolves.toHaveProperty('total_count')
    }
  })

  // The other direction (an answer stamped 301 s away from the client's clock) cannot be produced by an honest
  // server: it refuses the request first, by the same ±300 s rule. It is tested against a scripted server in
  // client-wire.test.ts and in the unit tests of response-verification.
})

describe('rate limits', () => {
  const burst = 10

  it('rides out a 429 burst with Retry-After when its own limiter is off', async () => {
    const emu = await h.emulator({rateLimitQps: 5})
    const lines: string[] = []
    const client = h.client(emu, {rateLimit: false, logger: (l) => lines.push(l), retry: {maxAttempts: 6, baseDelayMs: 5, maxDelayMs: 50}})
    const started = Date.now()
    const results = await Promise.all(
      Array.from({length: burst}, () =>
        client.request({method: 'GET', path: '/v3/marketing/membercard-open/cards', query: {limit: 1}}),
      ),
    )
    expect(results.every((r) => r.status === 200)).toBe(true)
    expect(emu.admin.stats().rate_limited).toBeGreaterThan(0)
    expect(lines.some((l) => / 429 .* retry-in=1000ms reason="status 429, Retry-After"$/.test(l))).toBe(true)
    // Retry-After is whole seconds (at least 1): the client waited it instead of its 5 ms backoff.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000)
  })

  it('sends a large refresh without a single 429 when its limiter is on at the API rate', async () => {
    const emu = await h.emulator({rateLimitQps: 5})
    const registry = new RateLimiterRegistry()
    const client = h.client(emu, {rateLimit: {qps: 5}, rateLimiters: registry})
    const other = h.client(emu, {rateLimit: {qps: 5}, rateLimiters: registry})
    const results = await Promise.all(
      Array.from({length: burst}, (_, i) =>
        (i % 2 ? client : other).request({method: 'GET', path: '/v3/brand/partner/card-member/cards', query: {brand_id: '1004', limit: 1}}),
      ),
    )
    expect(results.every((r) => r.status === 200)).toBe(true)
    expect(emu.admin.stats().rate_limited).toBe(0)
  })

  it('defaults to the documented 5/s for brand partner calls', async () => {
    const emu = await h.emulator({rateLimitQps: 5})
    // No rateLimit option at all: the family default applies.
    const client = h.track(new WechatPayClient({...loadCredentialsFile(emu.credentialsFile), rateLimiters: new RateLimiterRegistry()}))
    const started = Date.now()
    await Promise.all(
      Array.from({length: burst}, () =>
        client.request({method: 'GET', path: '/v3/brand/partner/card-member/cards', query: {brand_id: '1004', limit: 1}}),
      ),
    )
    expect(emu.admin.stats().rate_limited).toBe(0)
    expect(Date.now() - started).toBeGreaterThanOrEqual((burst - 1) * 200 - 20)
  })
})

describe('server failures', () => {
  it('retries injected 500 SYSTEM_ERRORs until the calls succeed', async () => {
    const emu = await h.emulator({failRate: 0.5, seed: 7})
    const client = h.client(emu, {retry: {maxAttempts: 10, baseDelayMs: 1, maxDelayMs: 5}})
    const api = new MembercardOpenApi(client)
    const cards = []
    for (let i = 0; i < 6; i++) cards.push(await api.create(membercardBody()))
    expect(emu.admin.stats().injected_failures).toBeGreaterThan(0)
    expect(new Set(cards.map((c) => c.card_id)).size).toBe(6)
    expect(emu.admin.listCards()).toHaveLength(6)
  })

  it('reports a 500 that outlasts the attempts as an ApiError with the attempt count', async () => {
    const emu = await h.emulator({failRate: 1})
    const error = await h
      .client(emu, {retry: {maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2}})
      .request({method: 'GET', path: '/v3/marketing/membercard-open/cards', query: {limit: 1}})
      .catch((e: unknown) => e)
    expect(error).toMatchObject({name: 'ApiError', status: 500, code: 'SYSTEM_ERROR', attempts: 3})
    expect(emu.admin.stats().injected_failures).toBe(3)
  })
})

describe('a connection dropped during create', () => {
  it('retries with the same out_request_no and ends with exactly one card (reset after the server applied it)', async () => {
    const emu = plain
    // The first create reaches the emulator, which creates the card; the proxy then resets the client's connection.
    const proxy = h.track(await startProxy(emu.url, (req, res) => (req.index === 0 ? 'reset' : res)))
    const body = membercardBody({brand: {brand_id: uniqueId('d').slice(-16), display_name: '掉线品牌'}})
    const lines: string[] = []
    const client = h.client(emu, {endpoint: proxy.url, logger: (l) => lines.push(l)})
    const card = await new MembercardOpenApi(client).create(body)
    expect(proxy.count()).toBe(2)
    expect(lines[0]).toMatch(/^wechatpay POST \/v3\/marketing\/membercard-open\/cards ECONNRESET .* retry-in=/)
    const listed = []
    for await (const c of new MembercardOpenApi(h.client(emu)).listAll({brand_id: (body.brand as {brand_id: string}).brand_id})) listed.push(c)
    expect(listed.map((c) => c.card_id)).toEqual([card.card_id])
  })

  it('with the emulator dropping connections after applying creates, every create ends with one card', async () => {
    const emu = await h.emulator({dropRate: 0.5, seed: 11})
    const client = h.client(emu, {retry: {maxAttempts: 12, baseDelayMs: 1, maxDelayMs: 5}})
    const api = new MembercardOpenApi(client)
    const bodies = Array.from({length: 8}, () => membercardBody())
    const cards = []
    for (const body of bodies) cards.push(await api.create(body))
    expect(emu.admin.stats().dropped_connections).toBeGreaterThan(0)
    const all = emu.admin.listCards()
    expect(all).toHaveLength(bodies.length)
    expect(new Set(all.map((c) => c.card.out_request_no))).toEqual(new Set(bodies.map((b) => b.out_request_no)))
    expect(new Set(cards.map((c) => c.card_id))).toEqual(new Set(all.map((c) => c.card_id)))
  })
})
