import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {generateKeyPairSync} from 'node:crypto'
import {MCO, responseVerifies, startTestEmulator, type TestEmulator} from './signed-client.js'
import {membercardBody} from './bodies.js'

let t: TestEmulator
beforeAll(async () => {
  t = await startTestEmulator()
})
afterAll(async () => {
  await t.emu.close()
})

describe('request signature verification', () => {
  it('refuses a body changed after signing with the documented SIGN_ERROR body', async () => {
    const body = membercardBody()
    const signed = JSON.stringify(body)
    const sent = JSON.stringify({...body, title: '篡改'})
    const r = await t.call('POST', MCO, undefined, {rawBody: sent, signedBody: signed})
    expect(r.status).toBe(401)
    expect(r.json.code).toBe('SIGN_ERROR')
    expect(r.json.message).toBe('错误的签名,验签失败')
    expect(r.json.detail).toMatchObject({
      detail: {issue: 'sign not match'},
      field: 'signature',
      location: 'authorization',
      sign_information: {method: 'POST', url: MCO},
    })
    expect(r.json.detail.sign_information.sign_message_length).toBeGreaterThan(sent.length)
    expect(r.json.detail.sign_information.truncated_sign_message).toMatch(/^POST\n\/v3\/marketing\/membercard-open\/cards\n\d+\n[0-9A-F]{32}\n/)
    expect(responseVerifies(r, t.wechatpayPublicKey)).toBe(true)
    expect(t.emu.admin.listCards().some((c) => c.card['out_request_no'] === body['out_request_no'])).toBe(false)
  })

  it('refuses a request signed with another key', async () => {
    const {privateKey} = generateKeyPairSync('rsa', {modulusLength: 2048})
    const r = await t.call('GET', `${MCO}?limit=1`, undefined, {privateKey})
    expect(r.status).toBe(401)
    expect(r.json.code).toBe('SIGN_ERROR')
    expect(r.json.message).toBe('错误的签名,验签失败')
  })

  it('refuses a signature over another query string', async () => {
    const r = await t.call('GET', `${MCO}?limit=1`, undefined, {headers: {}})
    expect(r.status).toBe(200)
    // Sign "?limit=1" but send "?limit=2": the signed URL includes the query.
    const c = t.emu.credentials
    const {signMessage, requestMessage, formatAuthorization, createNonce} = await import('../../engine/providers/wechatpay/signing.js')
    const ts = Math.floor(Date.now() / 1000)
    const nonce = createNonce()
    const signature = signMessage(requestMessage({method: 'GET', url: `${MCO}?limit=1`, timestamp: ts, nonce, body: ''}), t.privateKey)
    const res = await fetch(`${t.emu.url}${MCO}?limit=2`, {
      headers: {Accept: 'application/json', Authorization: formatAuthorization({mchid: c.mchid, serial_no: c.merchant_serial, nonce_str: nonce, timestamp: String(ts), signature})},
    })
    expect(res.status).toBe(401)
    expect(((await res.json()) as {code: string}).code).toBe('SIGN_ERROR')
  })

  it('refuses a timestamp more than 300 seconds old or ahead', async () => {
    const now = Math.floor(Date.now() / 1000)
    for (const timestamp of [now - 301, now + 301]) {
      const r = await t.call('GET', `${MCO}?limit=1`, undefined, {timestamp})
      expect(r.status).toBe(401)
      expect(r.json.code).toBe('SIGN_ERROR')
      expect(r.json.detail.field).toBe('timestamp')
    }
    expect((await t.call('GET', `${MCO}?limit=1`, undefined, {timestamp: now - 290})).status).toBe(200)
  })

  it('refuses a missing Authorization header', async () => {
    const r = await t.call('GET', `${MCO}?limit=1`, undefined, {headers: {Authorization: null}})
    expect(r.status).toBe(401)
    expect(r.json.code).toBe('SIGN_ERROR')
    expect(r.json.detail).toMatchObject({field: 'authorization', location: 'header'})
  })

  it('refuses another authorization scheme', async () => {
    const r = await t.call('GET', `${MCO}?limit=1`, undefined, {headers: {Authorization: 'Bearer abc'}})
    expect(r.status).toBe(401)
    expect(r.json.code).toBe('SIGN_ERROR')
  })

  it('refuses an unknown mchid', async () => {
    const r = await t.call('GET', `${MCO}?limit=1`, undefined, {mchid: '1999999999'})
    expect(r.status).toBe(401)
    expect(r.json).toMatchObject({code: 'SIGN_ERROR', detail: {field: 'mchid'}})
  })

  it('refuses an unknown merchant certificate serial', async () => {
    const r = await t.call('GET', `${MCO}?limit=1`, undefined, {serial: 'ABCDEF0123456789ABCDEF0123456789ABCDEF01'})
    expect(r.status).toBe(401)
    expect(r.json).toMatchObject({code: 'SIGN_ERROR', message: '商户证书序列号有误。请使用签名私钥匹配的证书序列号'})
  })

  it('accepts the Authorization items in any order', async () => {
    const c = t.emu.credentials
    const {signMessage, requestMessage, createNonce} = await import('../../engine/providers/wechatpay/signing.js')
    const ts = Math.floor(Date.now() / 1000)
    const nonce = createNonce()
    const signature = signMessage(requestMessage({method: 'GET', url: `${MCO}?limit=1`, timestamp: ts, nonce, body: ''}), t.privateKey)
    const res = await fetch(`${t.emu.url}${MCO}?limit=1`, {
      headers: {
        Accept: 'application/json',
        Authorization: `WECHATPAY2-SHA256-RSA2048 signature="${signature}",timestamp="${ts}",serial_no="${c.merchant_serial}",nonce_str="${nonce}",mchid="${c.mchid}"`,
      },
    })
    expect(res.status).toBe(200)
  })

  it('answers 400 INVALID_REQUEST to a Wechatpay-Serial that is neither the public key id nor the certificate serial', async () => {
    const r = await t.call('GET', `${MCO}?limit=1`, undefined, {wechatpaySerial: 'PUB_KEY_ID_00000000000000000000000000000000'})
    expect(r.status).toBe(400)
    expect(r.json.code).toBe('INVALID_REQUEST')
    expect(r.json.detail).toMatchObject({field: 'Wechatpay-Serial', location: 'header'})
  })

  it('requires Accept: application/json', async () => {
    const r = await t.call('GET', `${MCO}?limit=1`, undefined, {headers: {Accept: 'text/html'}})
    expect(r.status).toBe(400)
    expect(r.json).toMatchObject({code: 'INVALID_REQUEST', detail: {field: 'Accept'}})
  })

  it('requires Content-Type: application/json on a request with a body', async () => {
    const r = await t.call('POST', MCO, membercardBody(), {headers: {'Content-Type': 'text/plain'}})
    expect(r.status).toBe(400)
    expect(r.json).toMatchObject({code: 'INVALID_REQUEST', detail: {field: 'Content-Type'}})
  })

  it('answers an unknown /v3 path with a signed 404 and a wrong method with 405', async () => {
    const r = await t.call('GET', '/v3/marketing/membercard-open/nothing')
    expect(r.status).toBe(404)
    expect(responseVerifies(r, t.wechatpayPublicKey)).toBe(true)
    const m = await t.call('PUT', `${MCO}/pAAAAAAAAAAAAAAAAAAAAAAAAAAA`, {})
    expect(m.status).toBe(405)
    expect(m.headers.get('allow')).toContain('PATCH')
  })
})

describe('response headers', () => {
  /** The headers of the official example of a real signed answer (EMULATOR.md "Response headers"). */
  function expectDocumentedHeaders(r: {headers: Headers}, serial: string): void {
    expect(r.headers.get('wechatpay-signature-type')).toBe('WECHATPAY2-SHA256-RSA2048')
    expect(r.headers.get('content-language')).toBe('zh-CN')
    expect(r.headers.get('cache-control')).toBe('no-cache, must-revalidate')
    expect(r.headers.get('x-content-type-options')).toBe('nosniff')
    expect(r.headers.get('content-type')).toBe('application/json; charset=utf-8')
    expect(r.headers.get('wechatpay-serial')).toBe(serial)
    expect(r.headers.get('request-id')).toMatch(/^[0-9A-F]{44}-0$/)
  }

  it('sends the documented headers on a 200, a 204 and an error, in both signing modes', async () => {
    const created = await t.call('POST', MCO, membercardBody())
    expect(created.status).toBe(200)
    expectDocumentedHeaders(created, t.emu.credentials.wechatpay_public_key_id)
    const patched = await t.call('PATCH', `${MCO}/${created.json.card_id}`, {title: '新卡名'})
    expect(patched.status).toBe(204)
    expectDocumentedHeaders(patched, t.emu.credentials.wechatpay_public_key_id)
    expect(responseVerifies(patched, t.wechatpayPublicKey)).toBe(true)
    const missing = await t.call('GET', `${MCO}/pAAAAAAAAAAAAAAAAAAAAAAAAAAA`, undefined, {wechatpaySerial: null})
    expect(missing.status).toBe(404)
    expectDocumentedHeaders(missing, t.emu.credentials.platform_certificate_serial)
    expect(responseVerifies(missing, t.platformPublicKey)).toBe(true)
  })
})
