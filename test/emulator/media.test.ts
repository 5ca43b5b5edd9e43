import {existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'
import {MEDIA_UPLOAD, responseVerifies, startTestEmulator, type CallResult, type TestEmulator} from './signed-client.js'
import {expectApiError} from './expect-error.js'
import {GIF, bmpImage, jpegImage, pngImage, pngOfSize, sha256} from './images.js'

const UPLOAD_ROUTE = `POST ${MEDIA_UPLOAD}`
const MIB2 = 2 * 1024 * 1024

let t: TestEmulator
beforeAll(async () => {
  t = await startTestEmulator()
})
afterAll(async () => {
  await t.emu.close()
})

const mediaUrlOf = (hash: string, ext: string) => `${t.emu.url}/media/${hash}.${ext}`

describe('image upload', () => {
  it.each([
    ['PNG', pngImage(1), 'logo.png', 'png', 'image/png'],
    ['JPEG', jpegImage(1), 'logo.jpeg', 'jpg', 'image/jpeg'],
    ['BMP', bmpImage(1), 'logo.BMP', 'bmp', 'image/bmp'],
  ])('stores a %s and serves the same bytes at the media URL it answers', async (_name, bytes, filename, ext, type) => {
    const r = await t.upload({file: {bytes, filename}})
    expect(r.status, r.text).toBe(200)
    expect(r.json).toEqual({media_url: mediaUrlOf(sha256(bytes), ext)})
    expect(r.json.media_url.length).toBeLessThanOrEqual(128) // logo_url is string(128)
    expect(responseVerifies(r, t.wechatpayPublicKey)).toBe(true)
    const got = await fetch(r.json.media_url)
    expect(got.status).toBe(200)
    expect(got.headers.get('content-type')).toBe(type)
    expect(Buffer.from(await got.arrayBuffer())).toEqual(bytes)
  })

  it('answers the same URL for the same bytes, whatever their name, and stores them once', async () => {
    const bytes = pngImage(2)
    const before = t.emu.admin.stats()
    const a = await t.upload({file: {bytes, filename: 'a.png'}})
    const b = await t.upload({file: {bytes, filename: 'b.PNG'}})
    expect(b.json.media_url).toBe(a.json.media_url)
    const after = t.emu.admin.stats()
    expect((after.by_route[UPLOAD_ROUTE] ?? 0) - (before.by_route[UPLOAD_ROUTE] ?? 0)).toBe(2)
    expect(after.media_uploaded - before.media_uploaded).toBe(1)
    expect(t.emu.admin.listMedia().filter((m) => m.sha256 === sha256(bytes))).toEqual([
      {sha256: sha256(bytes), format: 'png', bytes: bytes.length, media_url: a.json.media_url},
    ])
    const admin = await fetch(`${t.emu.url}/__admin/media`)
    expect(await admin.json()).toEqual(t.emu.admin.listMedia())
  })

  it('accepts an image of exactly 2 MiB', async () => {
    const r = await t.upload({file: {bytes: pngOfSize(MIB2), filename: 'big.png'}})
    expect(r.status, r.text).toBe(200)
  })

  it('serves 404 for an unknown image or another extension, 405 for other methods', async () => {
    const bytes = pngImage(3)
    const url = (await t.upload({file: {bytes, filename: 'x.png'}})).json.media_url as string
    expect((await fetch(url.replace(/\.png$/, '.bmp'))).status).toBe(404)
    expect((await fetch(mediaUrlOf('0'.repeat(64), 'png'))).status).toBe(404)
    expect((await fetch(`${t.emu.url}/media/nothing`)).status).toBe(404)
    const post = await fetch(url, {method: 'POST'})
    expect(post.status).toBe(405)
    expect(post.headers.get('allow')).toBe('GET, HEAD')
  })
})

describe('image upload signature', () => {
  it('refuses a signature over the multipart body instead of the meta with the documented SIGN_ERROR', async () => {
    const bytes = pngImage(10)
    const r = await t.upload({file: {bytes, filename: 'signed-wrong.png'}}, {signOver: 'multipart'})
    expectApiError(r, 401, 'SIGN_ERROR', '错误的签名,验签失败')
    expect(r.json.detail).toMatchObject({detail: {issue: 'sign not match'}, field: 'signature', sign_information: {url: MEDIA_UPLOAD}})
    expect(responseVerifies(r, t.wechatpayPublicKey)).toBe(true)
    expect(t.emu.admin.listMedia().some((m) => m.sha256 === sha256(bytes))).toBe(false)
  })

  it('refuses a signature over another meta, or over an empty body', async () => {
    const bytes = pngImage(11)
    const other = JSON.stringify({filename: 'other.png', sha256: sha256(bytes)})
    expectApiError(await t.upload({file: {bytes}}, {signOver: {text: other}}), 401, 'SIGN_ERROR')
    expectApiError(await t.upload({file: {bytes}}, {signOver: {text: ''}}), 401, 'SIGN_ERROR')
    expect(t.emu.admin.listMedia().some((m) => m.sha256 === sha256(bytes))).toBe(false)
  })
})

describe('image upload refusals', () => {
  const refusals: [string, () => Promise<CallResult>, string, string, RegExp][] = [
    ['a sha256 that is not the file’s', () => t.upload({file: {bytes: pngImage(20)}, meta: JSON.stringify({filename: 'a.png', sha256: sha256(pngImage(21))})}), 'PARAM_ERROR', 'sha256', /摘要不一致/],
    ['a file of 2 MiB + 1 byte', () => t.upload({file: {bytes: pngOfSize(MIB2 + 1), filename: 'big.png'}}), 'PARAM_ERROR', 'file', /超过2M/],
    ['a GIF', () => t.upload({file: {bytes: GIF, filename: 'anim.png', type: 'image/png'}}), 'PARAM_ERROR', 'file', /仅支持JPG、BMP、PNG/],
    ['a text file', () => t.upload({file: {bytes: Buffer.from('not an image'), filename: 'a.jpg'}}), 'PARAM_ERROR', 'file', /仅支持JPG、BMP、PNG/],
    ['a PNG named .gif', () => t.upload({file: {bytes: pngImage(22), filename: 'logo.gif'}}), 'PARAM_ERROR', 'filename', /扩展名/],
    ['no meta part', () => t.upload({file: {bytes: pngImage(23)}, meta: null}), 'PARAM_ERROR', 'meta', /缺少/],
    ['a meta that is not JSON', () => t.upload({file: {bytes: pngImage(24)}, meta: '{filename: a.png'}), 'PARAM_ERROR', 'meta', /不是合法的JSON/],
    ['a meta without filename', () => t.upload({file: {bytes: pngImage(25)}, meta: JSON.stringify({sha256: sha256(pngImage(25))})}), 'PARAM_ERROR', 'filename', /filename必填/],
    ['a meta without sha256', () => t.upload({file: {bytes: pngImage(26)}, meta: JSON.stringify({filename: 'a.png'})}), 'PARAM_ERROR', 'sha256', /sha256必填/],
    ['no file part', () => t.upload({file: null, meta: JSON.stringify({filename: 'a.png', sha256: sha256(pngImage(27))})}), 'PARAM_ERROR', 'file', /缺少图片文件/],
  ]

  it.each(refusals)('refuses %s and stores nothing', async (_what, send, code, field, message) => {
    const media = t.emu.admin.listMedia().length
    const r = await send()
    expectApiError(r, 400, code, message)
    expect(r.json.detail).toMatchObject({field})
    expect(responseVerifies(r, t.wechatpayPublicKey)).toBe(true)
    expect(t.emu.admin.listMedia()).toHaveLength(media)
  })

  it('refuses a body that is not multipart/form-data with INVALID_REQUEST naming Content-Type', async () => {
    const r = await t.upload({file: {bytes: pngImage(28)}}, {contentType: 'application/json'})
    expectApiError(r, 400, 'INVALID_REQUEST', /multipart\/form-data/)
    expect(r.json.detail).toEqual({field: 'Content-Type', location: 'header'})
  })
})

describe('image upload rate limit', () => {
  let limited: TestEmulator
  let offset = 0
  afterEach(async () => {
    await limited?.emu.close()
  })

  it('answers the 101st upload of a minute 429 RATELIMIT_EXCEEDED with Retry-After, and accepts uploads again a minute later', async () => {
    limited = await startTestEmulator({clock: () => Date.now() + offset})
    const bytes = pngImage(30)
    for (let i = 0; i < 100; i++) expect((await limited.upload({file: {bytes}})).status).toBe(200)
    const refused = await limited.upload({file: {bytes}})
    expectApiError(refused, 429, 'RATELIMIT_EXCEEDED', '请求未受理,请降低频率后重试')
    const retryAfter = Number(refused.headers.get('retry-after'))
    expect(retryAfter).toBeGreaterThanOrEqual(1)
    expect(retryAfter).toBeLessThanOrEqual(60)
    // Card routes are not counted against the upload limit.
    expect((await limited.call('GET', '/v3/marketing/membercard-open/cards?limit=1')).status).toBe(200)
    offset += 60_500
    expect((await limited.upload({file: {bytes}})).status).toBe(200)
    const stats = limited.emu.admin.stats()
    expect(stats.by_route_status[UPLOAD_ROUTE]).toEqual({'200': 101, '429': 1})
    expect(stats.rate_limited).toBe(1)
    expect(stats.media_uploaded).toBe(1)
  })
})

describe('image persistence', () => {
  let dir: string
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'cardform-emu-media-'))
  })
  afterAll(() => rmSync(dir, {recursive: true, force: true}))

  it('keeps images as files under DATA/media, outside the card log, and serves them at the same URL after a restart', async () => {
    const first = await startTestEmulator({dataDir: dir})
    const bytes = jpegImage(40)
    const url = (await first.upload({file: {bytes, filename: 'kept.jpg'}})).json.media_url as string
    const port = Number(new URL(first.emu.url).port)
    await first.emu.close()
    expect(readdirSync(path.join(dir, 'media'))).toEqual([`${sha256(bytes)}.jpg`])
    for (const file of ['cards.json', 'cards.log'].map((f) => path.join(dir, f))) {
      if (existsSync(file)) expect(readFileSync(file, 'utf8')).not.toContain(sha256(bytes))
    }

    const second = await startTestEmulator({dataDir: dir, port})
    try {
      const got = await fetch(url)
      expect(got.status).toBe(200)
      expect(got.headers.get('content-type')).toBe('image/jpeg')
      expect(Buffer.from(await got.arrayBuffer())).toEqual(bytes)
      // Uploading the same bytes again answers the same URL and stores nothing new.
      expect((await second.upload({file: {bytes, filename: 'again.jpg'}})).json.media_url).toBe(url)
      expect(second.emu.admin.stats().media_uploaded).toBe(0)
    } finally {
      await second.emu.close()
    }
  })

  it('forgets images on reset, files included', async () => {
    const emu = await startTestEmulator({dataDir: dir})
    try {
      await emu.upload({file: {bytes: bmpImage(41), filename: 'gone.bmp'}})
      expect(emu.emu.admin.listMedia().length).toBeGreaterThan(0)
      await emu.emu.admin.reset()
      expect(emu.emu.admin.listMedia()).toEqual([])
      expect(readdirSync(dir)).not.toContain('media')
    } finally {
      await emu.emu.close()
    }
  })

  it('refuses to start on an image file whose bytes do not hash to its name', async () => {
    const damaged = mkdtempSync(path.join(tmpdir(), 'cardform-emu-media-'))
    try {
      const emu = await startTestEmulator({dataDir: damaged})
      await emu.upload({file: {bytes: pngImage(42), filename: 'a.png'}})
      await emu.emu.close()
      writeFileSync(path.join(damaged, 'media', `${sha256(pngImage(42))}.png`), pngImage(43))
      await expect(startTestEmulator({dataDir: damaged})).rejects.toThrow(/does not hash to its name/)
    } finally {
      rmSync(damaged, {recursive: true, force: true})
    }
  })
})
