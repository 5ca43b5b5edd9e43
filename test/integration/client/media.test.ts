import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'
import type {RunningEmulator} from '../../../emulator/index.js'
import {WechatPayGateway} from '../../../engine/providers/gateway.js'
import {WechatPayClient} from '../../../engine/providers/wechatpay/client.js'
import {loadCredentialsFile} from '../../../engine/providers/wechatpay/credentials.js'
import {ApiError, RateLimitError} from '../../../engine/providers/wechatpay/errors.js'
import {MEDIA_IMAGE_UPLOAD, MediaApi} from '../../../engine/providers/wechatpay/media.js'
import {RateLimiterRegistry} from '../../../engine/providers/wechatpay/rate-limiter.js'
import {GIF, bmpImage, jpegImage, pngImage, sha256} from '../../emulator/images.js'
import {Harness} from './emulator-helpers.js'

const UPLOAD_ROUTE = `POST ${MEDIA_IMAGE_UPLOAD}`

const shared = new Harness()
let emu: RunningEmulator
beforeAll(async () => {
  emu = await shared.emulator()
})
afterAll(() => shared.closeAll())

const h = new Harness()
afterEach(() => h.closeAll())

/** A clock tests move by hand, shared by the client, its limiter and the emulator; sleeping advances it. */
function manualTime() {
  let now = Date.now()
  const sleeps: number[] = []
  return {
    clock: () => now,
    sleep: async (ms: number) => {
      sleeps.push(ms)
      now += ms
    },
    sleeps,
  }
}

describe('image upload through the client', () => {
  it.each([
    ['PNG', pngImage(100), 'logo.png', 'image/png'],
    ['JPEG', jpegImage(100), 'logo.jpg', 'image/jpeg'],
    ['BMP', bmpImage(100), 'logo.bmp', 'image/bmp'],
  ])('uploads a %s; its URL serves the identical bytes', async (_name, bytes, filename, type) => {
    const res = await new MediaApi(h.client(emu)).uploadImage({filename, bytes, sha256: sha256(bytes)})
    expect(res.media_url).toMatch(new RegExp(`^${emu.url}/media/${sha256(bytes)}\\.(png|jpg|bmp)$`))
    const got = await fetch(res.media_url)
    expect(got.headers.get('content-type')).toBe(type)
    expect(Buffer.from(await got.arrayBuffer())).toEqual(bytes)
  })

  it('gets the same URL for the same bytes; the emulator counts one upload per call and stores the image once', async () => {
    const api = new MediaApi(h.client(emu))
    const bytes = pngImage(101)
    const before = emu.admin.stats()
    const a = await api.uploadImage({filename: 'one.png', bytes})
    const b = await api.uploadImage({filename: 'two.png', bytes})
    expect(b).toEqual(a)
    const after = emu.admin.stats()
    expect(after.by_route[UPLOAD_ROUTE]! - (before.by_route[UPLOAD_ROUTE] ?? 0)).toBe(2)
    expect(after.media_uploaded - before.media_uploaded).toBe(1)
  })

  it('surfaces a refusal as an ApiError with the API’s code', async () => {
    const error = await new MediaApi(h.client(emu)).uploadImage({filename: 'anim.png', bytes: GIF}).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ApiError)
    expect(error).toMatchObject({status: 400, code: 'PARAM_ERROR', attempts: 1})
    expect((error as Error).message).toMatch(/^POST \/v3\/marketing\/favor\/media\/image-upload failed: 400 PARAM_ERROR 图片格式不支持/)
  })

  it('retries an upload whose answer was lost: the same bytes get the same URL', async () => {
    const flaky = await h.emulator({dropRate: 0.5, seed: 3})
    const api = new MediaApi(h.client(flaky, {retry: {maxAttempts: 10, baseDelayMs: 1, maxDelayMs: 5}}))
    const urls = new Set<string>()
    for (let i = 0; i < 6; i++) urls.add((await api.uploadImage({filename: 'flaky.png', bytes: pngImage(102)})).media_url)
    expect(urls.size).toBe(1)
    expect(flaky.admin.stats().dropped_connections).toBeGreaterThan(0)
    expect(flaky.admin.listMedia()).toHaveLength(1)
  })
})

describe('the upload limit of 100 per minute', () => {
  it('paces uploads on the client so the emulator never refuses one', async () => {
    const time = manualTime()
    const limited = await h.emulator({clock: time.clock})
    // Built without a rateLimit override (Harness.client turns the limiter off): the media family's 1.5/s, burst 5.
    const client = h.track(
      new WechatPayClient({
        ...loadCredentialsFile(limited.credentialsFile, {keyMode: 'public-key'}),
        clock: time.clock,
        rateLimiters: new RateLimiterRegistry(time.clock, time.sleep),
      }),
    )
    const api = new MediaApi(client)
    for (let i = 0; i < 120; i++) await api.uploadImage({filename: `img-${i}.png`, bytes: pngImage(1000 + i)})
    const stats = limited.admin.stats()
    expect(stats.by_route_status[UPLOAD_ROUTE]).toEqual({'200': 120})
    expect(stats.rate_limited).toBe(0)
    // 5 at once, then one every 2/3 s: 115 waits of about 667 ms.
    expect(time.sleeps).toHaveLength(115)
    expect(time.sleeps.every((ms) => ms >= 666 && ms <= 667), time.sleeps.join(' ')).toBe(true)
  })

  it('an override meant for the card APIs neither loosens the upload pace nor takes its burst away', async () => {
    const time = manualTime()
    const limited = await h.emulator({clock: time.clock})
    const client = h.client(limited, {
      clock: time.clock,
      rateLimit: {qps: 10_000},
      rateLimiters: new RateLimiterRegistry(time.clock, time.sleep),
    })
    const api = new MediaApi(client)
    // The documented burst of 5 goes at once (it used to become 1: three images of a project took 1.3 s), then 1.5/s.
    for (let i = 0; i < 7; i++) await api.uploadImage({filename: `o-${i}.png`, bytes: pngImage(2000 + i)})
    expect(time.sleeps).toEqual([667, 667])
  })

  it('retries the 101st upload after the emulator’s Retry-After when the client does not pace', async () => {
    const time = manualTime()
    const limited = await h.emulator({clock: time.clock})
    const client = h.client(limited, {clock: time.clock, sleep: time.sleep, rateLimit: false})
    const api = new MediaApi(client)
    for (let i = 0; i < 100; i++) await api.uploadImage({filename: `r-${i}.png`, bytes: pngImage(3000 + i)})
    expect(time.sleeps).toEqual([])
    const res = await api.uploadImage({filename: 'r-100.png', bytes: pngImage(3100)})
    expect(res.media_url).toContain(sha256(pngImage(3100)))
    // One 429, then a wait of Retry-After seconds (the oldest upload leaves the minute), then success.
    expect(limited.admin.stats().by_route_status[UPLOAD_ROUTE]).toEqual({'200': 101, '429': 1})
    expect(time.sleeps).toHaveLength(1)
    expect(time.sleeps[0]).toBeGreaterThanOrEqual(1000)
    expect(time.sleeps[0]).toBeLessThanOrEqual(60_000)
  })

  it('gives up with a RateLimitError when retries are exhausted', async () => {
    const time = manualTime()
    const limited = await h.emulator({clock: time.clock})
    // A sleep that does not move the emulator's clock: every retry is refused again.
    const client = h.client(limited, {clock: time.clock, sleep: async () => {}, rateLimit: false, retry: {maxAttempts: 2}})
    const api = new MediaApi(client)
    for (let i = 0; i < 100; i++) await api.uploadImage({filename: `g-${i}.png`, bytes: pngImage(4000 + i)})
    const error = await api.uploadImage({filename: 'g-100.png', bytes: pngImage(4100)}).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RateLimitError)
    expect(error).toMatchObject({status: 429, code: 'RATELIMIT_EXCEEDED', attempts: 2})
  })
})

describe('WechatPayGateway.uploadImage', () => {
  function gateway(): WechatPayGateway {
    return h.track(
      new WechatPayGateway({
        wechatpay: {...loadCredentialsFile(emu.credentialsFile, {keyMode: 'public-key'}), rateLimiters: new RateLimiterRegistry()},
        families: new Map(),
      }),
    )
  }

  it('uploads and answers the media URL', async () => {
    const bytes = bmpImage(200)
    const res = await gateway().uploadImage({filename: 'assets/bg.bmp', bytes, sha256: sha256(bytes)})
    expect(res).toEqual({mediaUrl: `${emu.url}/media/${sha256(bytes)}.bmp`})
  })

  it('describes a refused upload like any refused call', async () => {
    const g = gateway()
    const error = await g.uploadImage({filename: 'a.gif', bytes: GIF, sha256: sha256(GIF)}).catch((e: unknown) => e)
    expect(g.describeFailure(error)).toMatchObject({status: 400, code: 'PARAM_ERROR', refused: true})
    expect(g.describeFailure(error).requestId).toMatch(/^[0-9A-F]+-0$/)
  })
})
