import {createPrivateKey, generateKeyPairSync, type KeyObject} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {describe, expect, it} from 'vitest'
import {
  loadPlatformKey,
  verifyResponse,
  type VerificationKeys,
} from '../../../engine/providers/wechatpay/response-verification.js'
import {responseMessage, signMessage} from '../../../engine/providers/wechatpay/signing.js'

const fixture = (name: string) =>
  readFileSync(fileURLToPath(new URL(`../../fixtures/wechatpay/${name}`, import.meta.url)), 'utf8')

const {privateKey, publicKey} = generateKeyPairSync('rsa', {modulusLength: 2048})
const other = generateKeyPairSync('rsa', {modulusLength: 2048})
const PUB_KEY_ID = 'PUB_KEY_ID_0114232134912410000000000000000001'
const publicKeyMode: VerificationKeys = {mode: 'public-key', publicKeyId: PUB_KEY_ID, publicKey}
const NOW = Date.parse('2030-01-01T00:00:00Z') // inside the fixture certificate's validity
const nowSec = NOW / 1000

function signed(body: string, opts: {timestamp?: number; serial?: string; key?: KeyObject; nonce?: string} = {}) {
  const timestamp = String(opts.timestamp ?? nowSec)
  const nonce = opts.nonce ?? 'A1B2C3D4E5F6'
  return {
    'wechatpay-timestamp': timestamp,
    'wechatpay-nonce': nonce,
    'wechatpay-serial': opts.serial ?? PUB_KEY_ID,
    'wechatpay-signature': signMessage(responseMessage(timestamp, nonce, body), opts.key ?? privateKey),
  }
}

describe('verifyResponse in public-key mode', () => {
  it('accepts a correctly signed body', () => {
    const body = '{"card_id":"pXX"}'
    expect(verifyResponse({keys: publicKeyMode, headers: signed(body), body, nowMs: NOW})).toBeUndefined()
  })

  it('accepts Wechatpay-Signature-Type WECHATPAY2-SHA256-RSA2048, and an answer without the header', () => {
    const body = '{"card_id":"pXX"}'
    const headers = {...signed(body), 'wechatpay-signature-type': 'WECHATPAY2-SHA256-RSA2048'}
    expect(verifyResponse({keys: publicKeyMode, headers, body, nowMs: NOW})).toBeUndefined()
  })

  it('refuses an answer whose Wechatpay-Signature-Type is one it cannot verify', () => {
    const body = '{"card_id":"pXX"}'
    for (const type of ['WECHATPAY-BRAND-SHA256-RSA2048', 'SM2-WITH-SM3', '']) {
      const headers = {...signed(body), 'wechatpay-signature-type': type}
      expect(verifyResponse({keys: publicKeyMode, headers, body, nowMs: NOW})).toMatch(/Wechatpay-Signature-Type .* is not WECHATPAY2-SHA256-RSA2048/)
    }
  })

  it('accepts a signed empty 204 body (its line is just the newline)', () => {
    expect(verifyResponse({keys: publicKeyMode, headers: signed(''), body: '', nowMs: NOW})).toBeUndefined()
  })

  it('rejects a body changed after signing', () => {
    const headers = signed('{"card_id":"pXX"}')
    expect(verifyResponse({keys: publicKeyMode, headers, body: '{"card_id":"pXY"}', nowMs: NOW})).toBe(
      `response signature does not verify with ${PUB_KEY_ID}`,
    )
  })

  it('rejects a signature by another key', () => {
    const body = '{}'
    expect(verifyResponse({keys: publicKeyMode, headers: signed(body, {key: other.privateKey}), body, nowMs: NOW})).toMatch(
      /does not verify/,
    )
  })

  it('names every missing signature header', () => {
    const headers: Record<string, string> = signed('{}')
    delete headers['wechatpay-nonce']
    delete headers['wechatpay-signature']
    expect(verifyResponse({keys: publicKeyMode, headers, body: '{}', nowMs: NOW})).toBe(
      'response lacks the Wechatpay-Nonce, Wechatpay-Signature headers',
    )
  })

  it('accepts a timestamp 300 s away and rejects one 301 s away, either side', () => {
    const body = '{}'
    for (const skew of [300, -300]) {
      expect(verifyResponse({keys: publicKeyMode, headers: signed(body, {timestamp: nowSec + skew}), body, nowMs: NOW})).toBeUndefined()
    }
    expect(verifyResponse({keys: publicKeyMode, headers: signed(body, {timestamp: nowSec - 301}), body, nowMs: NOW})).toBe(
      'response Wechatpay-Timestamp is 301 s behind the local clock (allowed ±300 s)',
    )
    expect(verifyResponse({keys: publicKeyMode, headers: signed(body, {timestamp: nowSec + 301}), body, nowMs: NOW})).toMatch(
      /301 s ahead of the local clock/,
    )
  })

  it('rejects a timestamp in milliseconds', () => {
    const body = '{}'
    const headers = {...signed(body), 'wechatpay-timestamp': String(NOW)}
    expect(verifyResponse({keys: publicKeyMode, headers, body, nowMs: NOW})).toBe(
      'response Wechatpay-Timestamp is not a Unix time in seconds',
    )
  })

  it('rejects a serial other than the configured public key id', () => {
    const body = '{}'
    expect(
      verifyResponse({keys: publicKeyMode, headers: signed(body, {serial: 'PUB_KEY_ID_999'}), body, nowMs: NOW}),
    ).toBe(`response Wechatpay-Serial "PUB_KEY_ID_999" is not the configured WeChat Pay public key ${PUB_KEY_ID}`)
  })

  it('never quotes the signature in its reason', () => {
    const body = '{"secret":"s3cr3t"}'
    const headers = signed('{}')
    const reason = verifyResponse({keys: publicKeyMode, headers, body, nowMs: NOW}) ?? ''
    expect(reason).not.toContain(headers['wechatpay-signature'].slice(0, 16))
    expect(reason).not.toContain('s3cr3t')
  })
})

describe('verifyResponse in platform-certificate mode', () => {
  const cert = loadPlatformKey(fixture('platform-cert.pem'), undefined, 'test')
  const certKey = createPrivateKey(fixture('platform-key.pem'))
  const keys: VerificationKeys = {mode: 'platform-certificate', certificates: new Map([[cert.serial, cert]])}

  it('reads the serial from the certificate', () => {
    expect(cert.serial).toBe('5157F09EFDC096DE15EBE81A47057A7232F1B8E1')
  })

  it('accepts a body signed with the certificate key, whatever the serial case', () => {
    const body = '{"ok":true}'
    const headers = signed(body, {serial: cert.serial.toLowerCase(), key: certKey})
    expect(verifyResponse({keys, headers, body, nowMs: NOW})).toBeUndefined()
  })

  it('rejects an unknown certificate serial', () => {
    const body = '{}'
    expect(verifyResponse({keys, headers: signed(body, {serial: 'ABCDEF'}), body, nowMs: NOW})).toMatch(
      /"ABCDEF" is not a known platform certificate \(known: 5157F0/,
    )
  })

  it('rejects a response signed while the certificate had expired', () => {
    const body = '{}'
    const later = cert.validToMs! + 1000
    const headers = signed(body, {serial: cert.serial, key: certKey, timestamp: Math.floor(later / 1000)})
    expect(verifyResponse({keys, headers, body, nowMs: later})).toMatch(/expired at/)
  })

  it('refuses a configured serial that does not match the certificate', () => {
    expect(() => loadPlatformKey(fixture('platform-cert.pem'), '00FF', 'provider.platform_certificate_file')).toThrow(
      'platform certificate serial 5157F09EFDC096DE15EBE81A47057A7232F1B8E1 does not match the configured serial 00FF: provider.platform_certificate_file',
    )
  })

  it('accepts a bare public key PEM when its serial is configured', () => {
    const pem = publicKey.export({type: 'spki', format: 'pem'}).toString()
    expect(loadPlatformKey(pem, 'abc123', 'x').serial).toBe('ABC123')
    expect(() => loadPlatformKey(pem, undefined, 'x')).toThrow(/needs its certificate serial configured/)
  })
})
