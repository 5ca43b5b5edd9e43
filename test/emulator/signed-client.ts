import {readFileSync} from 'node:fs'
import {createHash, createPrivateKey, createPublicKey, X509Certificate, type KeyObject} from 'node:crypto'
import {
  createNonce,
  formatAuthorization,
  requestMessage,
  responseMessage,
  signMessage,
  verifyMessage,
} from '../../engine/providers/wechatpay/signing.js'
import {startEmulator, type EmulatorOptions, type RunningEmulator} from '../../emulator/index.js'

/**
 * A tiny signed-request helper for the emulator's own tests, built on the shared signing primitives only (not on
 * the cardform client), so that the emulator is checked against the API's rules and not against our client.
 */

export interface CallOptions {
  /** Send this text as the body instead of JSON.stringify(body). */
  rawBody?: string
  /** Sign this text instead of the body sent (to tamper with the body after signing). */
  signedBody?: string
  timestamp?: number
  privateKey?: KeyObject
  mchid?: string
  serial?: string
  /** Override or remove (null) headers. */
  headers?: Record<string, string | null>
  /** The Wechatpay-Serial request header; default the public key id (public-key mode); null to omit. */
  wechatpaySerial?: string | null
}

export interface CallResult {
  status: number
  headers: Headers
  text: string
  json: any
}

export interface TestEmulator {
  emu: RunningEmulator
  privateKey: KeyObject
  wechatpayPublicKey: KeyObject
  platformPublicKey: KeyObject
  call(method: string, path: string, body?: unknown, options?: CallOptions): Promise<CallResult>
  /** A signed image upload (multipart), built here with the platform's FormData. */
  upload(parts: UploadParts, options?: UploadOptions): Promise<CallResult>
}

export const MEDIA_UPLOAD = '/v3/marketing/favor/media/image-upload'

export interface UploadParts {
  file?: {bytes: Uint8Array; filename?: string; type?: string} | null
  /** The meta part's text; default `{"filename","sha256"}` of the file. null: no meta part. */
  meta?: string | null
}

export interface UploadOptions {
  /**
   * What the signature's body line holds: the meta text (default, as the API requires), the whole multipart body
   * (the classic client bug), or any text.
   */
  signOver?: 'meta' | 'multipart' | {text: string}
  /** Replace the request's Content-Type header. */
  contentType?: string
}

export async function startTestEmulator(options: EmulatorOptions = {}): Promise<TestEmulator> {
  const emu = await startEmulator({seed: 7, ...options})
  const c = emu.credentials
  const privateKey = createPrivateKey(readFileSync(c.merchant_private_key_file))
  const wechatpayPublicKey = createPublicKey(readFileSync(c.wechatpay_public_key_file))
  const platformPublicKey = new X509Certificate(readFileSync(c.platform_certificate_file)).publicKey
  return {
    emu,
    privateKey,
    wechatpayPublicKey,
    platformPublicKey,
    call: (method, path, body, o = {}) => signedCall(emu, privateKey, method, path, body, o),
    upload: (parts, o = {}) => signedUpload(emu, privateKey, parts, o),
  }
}

export async function signedUpload(emu: RunningEmulator, privateKey: KeyObject, parts: UploadParts, o: UploadOptions = {}): Promise<CallResult> {
  const file = parts.file
  const filename = file?.filename ?? 'image.png'
  const meta =
    parts.meta === undefined
      ? JSON.stringify({filename, sha256: createHash('sha256').update(file?.bytes ?? new Uint8Array()).digest('hex')})
      : parts.meta
  const form = new FormData()
  if (meta !== null) form.append('meta', meta)
  if (file) form.append('file', new Blob([file.bytes], {type: file.type ?? 'image/png'}), filename)
  const encoded = new Response(form)
  const bytes = Buffer.from(await encoded.arrayBuffer())
  const signOver = o.signOver ?? 'meta'
  const signed = signOver === 'meta' ? (meta ?? '') : signOver === 'multipart' ? bytes.toString('latin1') : signOver.text
  const c = emu.credentials
  const timestamp = Math.floor(Date.now() / 1000)
  const nonce = createNonce()
  const signature = signMessage(requestMessage({method: 'POST', url: MEDIA_UPLOAD, timestamp, nonce, body: signed}), privateKey)
  const res = await fetch(emu.url + MEDIA_UPLOAD, {
    method: 'POST',
    headers: {
      Accept: 'application/json',
      'Content-Type': o.contentType ?? encoded.headers.get('content-type')!,
      'Wechatpay-Serial': c.wechatpay_public_key_id,
      Authorization: formatAuthorization({mchid: c.mchid, serial_no: c.merchant_serial, nonce_str: nonce, timestamp: String(timestamp), signature}),
    },
    body: bytes,
  })
  const text = await res.text()
  return {status: res.status, headers: res.headers, text, json: text === '' ? undefined : JSON.parse(text)}
}

export async function signedCall(
  emu: RunningEmulator,
  privateKey: KeyObject,
  method: string,
  path: string,
  body: unknown,
  o: CallOptions = {},
): Promise<CallResult> {
  const c = emu.credentials
  const text = o.rawBody ?? (body === undefined ? '' : JSON.stringify(body))
  const timestamp = o.timestamp ?? Math.floor(Date.now() / 1000)
  const nonce = createNonce()
  const signature = signMessage(
    requestMessage({method, url: path, timestamp, nonce, body: o.signedBody ?? text}),
    o.privateKey ?? privateKey,
  )
  const headers: Record<string, string> = {
    Accept: 'application/json',
    Authorization: formatAuthorization({
      mchid: o.mchid ?? c.mchid,
      serial_no: o.serial ?? c.merchant_serial,
      nonce_str: nonce,
      timestamp: String(timestamp),
      signature,
    }),
  }
  if (text !== '') headers['Content-Type'] = 'application/json'
  const serial = o.wechatpaySerial === undefined ? c.wechatpay_public_key_id : o.wechatpaySerial
  if (serial !== null) headers['Wechatpay-Serial'] = serial
  for (const [k, v] of Object.entries(o.headers ?? {})) {
    if (v === null) delete headers[k]
    else headers[k] = v
  }
  const res = await fetch(emu.url + path, {method, headers, ...(text === '' ? {} : {body: text})})
  const responseText = await res.text()
  return {status: res.status, headers: res.headers, text: responseText, json: responseText === '' ? undefined : JSON.parse(responseText)}
}

/** Whether the response carries a valid Wechatpay-Signature made with `key`. */
export function responseVerifies(r: CallResult, key: KeyObject): boolean {
  const ts = r.headers.get('wechatpay-timestamp')
  const nonce = r.headers.get('wechatpay-nonce')
  const sig = r.headers.get('wechatpay-signature')
  if (!ts || !nonce || !sig) return false
  return verifyMessage(responseMessage(ts, nonce, r.text), sig, key)
}

export function loadSeed(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`../fixtures/seeds/${name}`, import.meta.url), 'utf8')) as Record<string, unknown>
}

export const MCO = '/v3/marketing/membercard-open/cards'
export const BRAND = '/v3/brand/partner/card-member/cards'
