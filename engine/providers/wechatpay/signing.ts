import {createSign, createVerify, randomBytes, sign as cryptoSign, type KeyLike, type KeyObject} from 'node:crypto'

/**
 * WeChat Pay APIv3 signing primitives, shared by the client (which signs requests and verifies responses) and the
 * emulator (which verifies requests and signs responses). Source: reference wechatpay-api.md §2.
 */

/** The authorization scheme of the membercard-open and brand partner families. */
export const AUTH_SCHEME = 'WECHATPAY2-SHA256-RSA2048'

/** Official SDKs reject a timestamp 5 minutes or more away from the local clock (reference §2: Go, Java, axios). */
export const MAX_CLOCK_SKEW_SECONDS = 300

export interface RequestToSign {
  method: string
  /** Absolute path without the host, with `?query` when the request has a query string. */
  url: string
  /** Unix seconds. */
  timestamp: number
  nonce: string
  /** The exact body bytes sent, '' for GET/DELETE or an empty body. */
  body: string
}

/** Five lines, each ending in LF, the last included even when the body is empty. */
export function requestMessage(r: RequestToSign): string {
  return `${r.method.toUpperCase()}\n${r.url}\n${r.timestamp}\n${r.nonce}\n${r.body}\n`
}

/** Three lines, each ending in LF; an empty body (204) still contributes its final LF. */
export function responseMessage(timestamp: number | string, nonce: string, body: string): string {
  return `${timestamp}\n${nonce}\n${body}\n`
}

/** SHA256withRSA (PKCS#1 v1.5), base64. */
export function signMessage(message: string, privateKey: KeyLike): string {
  return createSign('RSA-SHA256').update(message, 'utf8').sign(privateKey, 'base64')
}

/**
 * The same signature as signMessage, computed on Node's thread pool: an RSA-2048 signature costs ~0.6 ms of CPU, and
 * off the main thread the client and the emulator keep serving other requests meanwhile.
 */
export function signInThreadPool(message: string, key: KeyObject): Promise<string> {
  return new Promise((resolve, reject) => {
    cryptoSign('sha256', Buffer.from(message, 'utf8'), key, (error, signature) => {
      if (error) reject(error)
      else resolve(signature.toString('base64'))
    })
  })
}

export function verifyMessage(message: string, signature: string, publicKey: KeyLike): boolean {
  try {
    return createVerify('RSA-SHA256').update(message, 'utf8').verify(publicKey, signature, 'base64')
  } catch {
    return false
  }
}

/** 32 upper-case hex characters, as the official examples show. */
export function createNonce(): string {
  return randomBytes(16).toString('hex').toUpperCase()
}

export interface AuthorizationFields {
  mchid: string
  serial_no: string
  nonce_str: string
  timestamp: string
  signature: string
}

export function formatAuthorization(f: AuthorizationFields): string {
  return (
    `${AUTH_SCHEME} mchid="${f.mchid}",nonce_str="${f.nonce_str}",timestamp="${f.timestamp}",` +
    `serial_no="${f.serial_no}",signature="${f.signature}"`
  )
}

/**
 * Parse an Authorization header. The five items may come in any order ("以上五项签名信息,无顺序要求").
 * Returns the reason as a string when the header is malformed.
 */
export function parseAuthorization(header: string | undefined): AuthorizationFields | string {
  if (!header) return 'missing Authorization header'
  const space = header.indexOf(' ')
  if (space < 0 || header.slice(0, space) !== AUTH_SCHEME) return `authorization scheme is not ${AUTH_SCHEME}`
  const fields: Record<string, string> = {}
  for (const m of header.slice(space + 1).matchAll(/\s*([a-z_]+)="([^"]*)"\s*(?:,|$)/g)) {
    fields[m[1]!] = m[2]!
  }
  for (const key of ['mchid', 'serial_no', 'nonce_str', 'timestamp', 'signature'] as const) {
    if (!fields[key]) return `authorization is missing ${key}`
  }
  return fields as unknown as AuthorizationFields
}
