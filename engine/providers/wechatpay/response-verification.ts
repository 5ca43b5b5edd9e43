import {X509Certificate, createPublicKey, type KeyObject} from 'node:crypto'
import {AUTH_SCHEME, MAX_CLOCK_SKEW_SECONDS, responseMessage, verifyMessage} from './signing.js'

/**
 * Verification of APIv3 response signatures (reference §2): Wechatpay-Timestamp, -Nonce, -Signature and -Serial must
 * be present, the timestamp within ±300 s of our clock, the serial one we know, and the signature valid over
 * `timestamp\nnonce\nbody\n` (an empty 204 body still contributes its newline). `Wechatpay-Signature-Type`, when
 * present, must name the one algorithm we verify.
 */

/**
 * The signature type we can verify. F: the official verification page shows `Wechatpay-Signature-Type:
 * WECHATPAY2-SHA256-RSA2048` on a real answer (pay.weixin.qq.com …/interface-rules/build-verify-sign-src.html), and
 * wechatpayv3 (Python) refuses any other value. I: older answers had no such header (wechatpay-axios-plugin#8
 * shows a 2020 answer without it), so its absence is accepted; another value (the brand merchants' own
 * `WECHATPAY-BRAND-SHA256-RSA2048`, or anything new) would be verified with the wrong algorithm, so it is refused.
 */
export const SUPPORTED_SIGNATURE_TYPE = AUTH_SCHEME

/** A platform certificate's key, with the validity window when it came from a real X.509 certificate. */
export interface PlatformKey {
  /** Upper-case hex serial, as `Wechatpay-Serial` carries it. */
  serial: string
  key: KeyObject
  validFromMs?: number
  validToMs?: number
}

/**
 * Which key signs responses. Public-key mode: the WeChat Pay public key `PUB_KEY_ID_…` (new merchants get only this
 * mode, reference §2). Platform-certificate mode: certificates keyed by their serial.
 */
export type VerificationKeys =
  | {mode: 'public-key'; publicKeyId: string; publicKey: KeyObject}
  | {mode: 'platform-certificate'; certificates: ReadonlyMap<string, PlatformKey>}

export function normalizeSerial(serial: string): string {
  return serial.trim().toUpperCase()
}

/**
 * Load a platform certificate from PEM. A `CERTIFICATE` block is read with X509Certificate and its own serial is used
 * (a configured serial must match it). A `PUBLIC KEY` block is accepted too, with the serial given by the
 * configuration: an emulator without an X.509 toolchain may ship the platform key that way.
 */
export function loadPlatformKey(pem: string, configuredSerial: string | undefined, where: string): PlatformKey {
  if (pem.includes('-----BEGIN CERTIFICATE-----')) {
    let cert: X509Certificate
    try {
      cert = new X509Certificate(pem)
    } catch (e) {
      throw new Error(`platform certificate is not a readable X.509 certificate (${(e as Error).message}): ${where}`)
    }
    const serial = normalizeSerial(cert.serialNumber)
    if (configuredSerial !== undefined && normalizeSerial(configuredSerial) !== serial) {
      throw new Error(
        `platform certificate serial ${serial} does not match the configured serial ${normalizeSerial(configuredSerial)}: ${where}`,
      )
    }
    return {serial, key: cert.publicKey, validFromMs: Date.parse(cert.validFrom), validToMs: Date.parse(cert.validTo)}
  }
  if (pem.includes('-----BEGIN PUBLIC KEY-----') || pem.includes('-----BEGIN RSA PUBLIC KEY-----')) {
    if (configuredSerial === undefined || configuredSerial.trim() === '') {
      throw new Error(`a platform public key needs its certificate serial configured: ${where}`)
    }
    return {serial: normalizeSerial(configuredSerial), key: loadPublicKey(pem, where)}
  }
  throw new Error(`expected a PEM certificate or public key: ${where}`)
}

export function loadPublicKey(pem: string, where: string): KeyObject {
  try {
    return createPublicKey(pem)
  } catch (e) {
    throw new Error(`not a readable public key (${(e as Error).message}): ${where}`)
  }
}

export type HeaderBag = Record<string, string | string[] | undefined>

/** A header's single value (header names are lower-case, as undici and node:http give them). */
export function headerValue(headers: HeaderBag, name: string): string | undefined {
  const v = headers[name.toLowerCase()]
  return Array.isArray(v) ? v[0] : v
}

const SIGNATURE_HEADERS = ['Wechatpay-Timestamp', 'Wechatpay-Nonce', 'Wechatpay-Signature', 'Wechatpay-Serial'] as const

/**
 * Verify one response. Returns undefined when it is authentic, else the reason in words. The reason never quotes
 * the signature or the body.
 */
export function verifyResponse(input: {
  keys: VerificationKeys
  headers: HeaderBag
  body: string
  nowMs: number
}): string | undefined {
  const {keys, headers, body, nowMs} = input
  const missing = SIGNATURE_HEADERS.filter((h) => !headerValue(headers, h))
  if (missing.length > 0) return `response lacks the ${missing.join(', ')} header${missing.length > 1 ? 's' : ''}`
  const timestampText = headerValue(headers, 'Wechatpay-Timestamp')!
  const nonce = headerValue(headers, 'Wechatpay-Nonce')!
  const signature = headerValue(headers, 'Wechatpay-Signature')!
  const serial = headerValue(headers, 'Wechatpay-Serial')!

  const signatureType = headerValue(headers, 'Wechatpay-Signature-Type')
  if (signatureType !== undefined && signatureType !== SUPPORTED_SIGNATURE_TYPE) {
    return `response Wechatpay-Signature-Type ${quoteShort(signatureType)} is not ${SUPPORTED_SIGNATURE_TYPE}, the only type cardform verifies`
  }
  if (!/^\d{1,12}$/.test(timestampText)) return 'response Wechatpay-Timestamp is not a Unix time in seconds'
  const skew = Math.floor(nowMs / 1000) - Number(timestampText)
  if (Math.abs(skew) > MAX_CLOCK_SKEW_SECONDS) {
    return (
      `response Wechatpay-Timestamp is ${Math.abs(skew)} s ${skew > 0 ? 'behind' : 'ahead of'} the local clock ` +
      `(allowed ±${MAX_CLOCK_SKEW_SECONDS} s)`
    )
  }

  let key: KeyObject
  let keyName: string
  if (keys.mode === 'public-key') {
    if (serial !== keys.publicKeyId) {
      return `response Wechatpay-Serial ${quoteShort(serial)} is not the configured WeChat Pay public key ${keys.publicKeyId}`
    }
    key = keys.publicKey
    keyName = keys.publicKeyId
  } else {
    const platform = keys.certificates.get(normalizeSerial(serial))
    if (platform === undefined) {
      const known = [...keys.certificates.keys()].join(', ') || 'none'
      return `response Wechatpay-Serial ${quoteShort(serial)} is not a known platform certificate (known: ${known})`
    }
    if (platform.validToMs !== undefined && nowMs > platform.validToMs) {
      return `platform certificate ${platform.serial} expired at ${new Date(platform.validToMs).toISOString()}`
    }
    if (platform.validFromMs !== undefined && nowMs < platform.validFromMs) {
      return `platform certificate ${platform.serial} is not valid before ${new Date(platform.validFromMs).toISOString()}`
    }
    key = platform.key
    keyName = `platform certificate ${platform.serial}`
  }
  if (!verifyMessage(responseMessage(timestampText, nonce, body), signature, key)) {
    return `response signature does not verify with ${keyName}`
  }
  return undefined
}

/** A header value quoted for a message, cut short: it came from the network and may be anything. */
function quoteShort(value: string): string {
  const clean = value.replace(/[^\x20-\x7e]/g, '?')
  return JSON.stringify(clean.length > 64 ? `${clean.slice(0, 64)}…` : clean)
}

/**
 * Remembers the Wechatpay-Nonce of every answer accepted within the clock-skew window, so that an authentic answer
 * replayed by a hostile server or proxy (for another call, within ±300 s) is refused: the signature covers
 * `timestamp\nnonce\nbody\n` only, not the request it answers (reference §2). WeChat Pay signs each answer with a
 * fresh random nonce (I: as the official SDKs' request nonces are), so an honest server never repeats one. Outside
 * the window a replay is already refused by the timestamp check.
 */
export class ReplayGuard {
  /** nonce → the answer's timestamp (seconds). */
  private readonly seen = new Map<string, number>()

  /** Record the answer's nonce; the reason when it was seen before. Call only for answers that verified. */
  check(headers: HeaderBag, nowMs: number): string | undefined {
    const nonce = headerValue(headers, 'Wechatpay-Nonce')
    const timestamp = Number(headerValue(headers, 'Wechatpay-Timestamp'))
    if (nonce === undefined) return undefined
    if (this.seen.has(nonce)) return 'response Wechatpay-Nonce was already used by an earlier answer (a replayed response)'
    const now = Math.floor(nowMs / 1000)
    if (this.seen.size >= 1024) {
      // Forget answers that the timestamp check would refuse anyway.
      for (const [n, ts] of this.seen) if (Math.abs(now - ts) > MAX_CLOCK_SKEW_SECONDS) this.seen.delete(n)
    }
    this.seen.set(nonce, timestamp)
    return undefined
  }
}
