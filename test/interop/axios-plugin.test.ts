import {readFileSync} from 'node:fs'
import {createHash, generateKeyPairSync} from 'node:crypto'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {Multipart, Wechatpay} from 'wechatpay-axios-plugin'
import {startEmulator, type RunningEmulator} from '../../emulator/index.js'
import {brandBody, membercardBody} from '../emulator/bodies.js'
import {pngImage} from '../emulator/images.js'

/**
 * A client that is not ours against the emulator: wechatpay-axios-plugin (reference §4's best Node candidate), set up
 * as its README says, with only the base URL pointed at the emulator. It signs every request and verifies every 2xx
 * answer itself (timestamp window, `certs[Wechatpay-Serial]`, SHA256withRSA over the exact body), rejecting the call
 * when anything is off, so each call that resolves is an answer the plugin verified.
 *
 * Public-key mode: the plugin does not send `Wechatpay-Serial` on its own, and the API signs with the WeChat Pay
 * public key when the request names it (reference §2); the header is set as an axios default, an ordinary axios
 * option like baseURL (wechatpayv3 ≥ 1.3.9 sends it always in that mode). Certificate mode needs no header.
 */

let emu: RunningEmulator
beforeAll(async () => {
  emu = await startEmulator({seed: 11})
})
afterAll(async () => {
  await emu?.close()
})

type Mode = 'public-key' | 'platform-certificate'

/** The plugin's chainable client, loosely typed: its chain is built from property names at run time. */
type Chain = any

function plugin(mode: Mode, override: {publicKeyPem?: string} = {}): Chain {
  const c = emu.credentials
  const certs =
    mode === 'public-key'
      ? {[c.wechatpay_public_key_id]: override.publicKeyPem ?? readFileSync(c.wechatpay_public_key_file, 'utf8')}
      : {[c.platform_certificate_serial]: readFileSync(c.platform_certificate_file, 'utf8')}
  return new Wechatpay({
    mchid: c.mchid,
    serial: c.merchant_serial,
    privateKey: readFileSync(c.merchant_private_key_file, 'utf8'),
    certs,
    baseURL: `${emu.url}/`,
    ...(mode === 'public-key' ? {headers: {'Wechatpay-Serial': c.wechatpay_public_key_id}} : {}),
  } as ConstructorParameters<typeof Wechatpay>[0])
}

describe.each<Mode>(['public-key', 'platform-certificate'])('wechatpay-axios-plugin in %s mode', (mode) => {
  it('calls every membercard-open route and verifies every answer', async () => {
    const wxpay = plugin(mode)
    const cards = wxpay.v3.marketing.membercardOpen.cards
    const created = await cards.post(membercardBody())
    expect(created.status).toBe(200)
    const cardId = created.data.card_id as string
    expect(cardId).toMatch(/^p/)
    expect(created.headers['wechatpay-signature-type']).toBe('WECHATPAY2-SHA256-RSA2048')

    const listed = await cards.get({params: {limit: 20, offset: 0}})
    expect(listed.status).toBe(200)
    expect(listed.data.data.map((d: {card_id: string}) => d.card_id)).toContain(cardId)

    const got = await cards._card_id_.get({card_id: cardId})
    expect(got.status).toBe(200)
    expect(got.data).toMatchObject({card_id: cardId, status: 'APPROVED'})

    const patched = await cards._card_id_.patch({title: '改名的卡'}, {card_id: cardId})
    expect(patched.status).toBe(204)
    expect(patched.data).toBe('')

    const rights = await cards._card_id_.rights.patch({show_bonus: false, show_favor: false}, {card_id: cardId})
    expect(rights.status).toBe(204)

    const deleted = await cards._card_id_.delete({card_id: cardId})
    expect(deleted.status).toBe(204)
    expect((await cards._card_id_.get({card_id: cardId})).data.status).toBe('DELETED')
  })

  it('calls every brand partner route and verifies every answer', async () => {
    const wxpay = plugin(mode)
    const cards = wxpay.v3.brand.partner.cardMember.cards
    const created = await cards.post(brandBody())
    expect(created.status).toBe(200)
    const cardId = created.data.card_id as string
    const brandId = created.data.brand_id as string

    const listed = await cards.get({params: {brand_id: brandId, limit: 20}})
    expect(listed.status).toBe(200)
    expect(listed.data.data.map((d: {card_id: string}) => d.card_id)).toContain(cardId)

    const got = await cards._card_id_.get({card_id: cardId, params: {brand_id: brandId}})
    expect(got.data).toMatchObject({card_id: cardId, state: 'CARD_EFFECTIVE'})

    const patched = await cards._card_id_.patch({brand_id: brandId, card_title: '新卡名'}, {card_id: cardId})
    expect(patched.status).toBe(200)
    expect(patched.data).toMatchObject({card_id: cardId, card_title: '新卡名'})

    const invalidated = await cards._card_id_.invalidate.post({brand_id: brandId}, {card_id: cardId})
    expect(invalidated.status).toBe(200)
    expect(invalidated.data.state).toBe('CARD_INVALID')

    // DELETE (the alias of invalidate) on a second card.
    const second = (await cards.post(brandBody())).data.card_id as string
    const removed = await cards._card_id_.delete({card_id: second, params: {brand_id: brandId}})
    expect(removed.status).toBe(200)
    expect(removed.data.state).toBe('CARD_INVALID')
  })

  it('uploads an image with its Multipart helper as its documentation does (signed over the meta JSON), verifying the answer', async () => {
    const wxpay = plugin(mode)
    const bytes = pngImage(5)
    const meta = {filename: 'logo.png', sha256: createHash('sha256').update(bytes).digest('hex')}
    // The plugin signs `config.meta` when given (its decorator: JSON.stringify(config.meta ?? config.data)). Its
    // Multipart is sent as the bytes it builds: axios 1.x would otherwise re-encode the form-like object itself (a
    // Buffer part then loses its filename and arrives as a text field).
    const media = new Multipart().append('meta', JSON.stringify(meta)).append('file', bytes, 'logo.png')
    const uploaded = await wxpay.v3.marketing.favor.media.imageUpload.post(media.getBuffer(), {meta, headers: media.getHeaders()})
    expect(uploaded.status).toBe(200)
    expect(uploaded.data.media_url).toBe(`${emu.url}/media/${meta.sha256}.png`)
    expect(Buffer.from(await (await fetch(uploaded.data.media_url)).arrayBuffer())).toEqual(bytes)
  })

  it('surfaces an API error as an AxiosError with the documented body', async () => {
    const wxpay = plugin(mode)
    const error = await wxpay.v3.marketing.membercardOpen.cards._card_id_
      .get({card_id: 'pNoSuchCard000000000000000000'})
      .catch((e: unknown) => e)
    expect(error).toMatchObject({response: {status: 404, data: {code: 'RESOURCE_NOT_EXISTS'}}})
  })
})

it('wechatpay-axios-plugin refuses the answers when configured with another public key (its verification is on)', async () => {
  const otherPem = generateKeyPairSync('rsa', {modulusLength: 2048}).publicKey.export({type: 'spki', format: 'pem'}).toString()
  const wxpay = plugin('public-key', {publicKeyPem: otherPem})
  const error = await wxpay.v3.marketing.membercardOpen.cards.get({params: {limit: 1}}).catch((e: unknown) => e)
  expect(error).toMatchObject({code: 'EV3_RES_HEADER_SIGNATURE_DIGEST'})
})
