import {createPrivateKey, type KeyObject} from 'node:crypto'
import {readFileSync, existsSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {ApiError, createApiError, ResponseVerificationError, TransportError, UnexpectedResponseError} from './errors.js'
import {
  effectiveRateLimit,
  rateLimitFamilyOf,
  realSleep,
  sharedRateLimiters,
  validateRateLimit,
  type RateLimitOverride,
  type RateLimiterRegistry,
  type Sleep,
  type TokenBucket,
} from './rate-limiter.js'
import {headerValue, ReplayGuard, verifyResponse, type HeaderBag, type VerificationKeys} from './response-verification.js'
import {
  DEFAULT_RETRY_OPTIONS,
  classifyTransportError,
  isIdempotentMethod,
  parseRetryAfter,
  runAttempts,
  type AttemptResult,
  type RetryDecision,
  type RetryOptions,
} from './retry.js'
import {createNonce, formatAuthorization, requestMessage, signInThreadPool} from './signing.js'
import {DEFAULT_TRANSPORT_OPTIONS, HttpTransport, ResponseTooLargeError, type RawResponse, type TransportOptions} from './transport.js'

/**
 * The WeChat Pay APIv3 client: signs every request (reference §2), verifies every 2xx response, retries what is safe
 * to retry and paces itself with a per-merchant token bucket. Endpoint wrappers (membercard-open.ts,
 * brand-card-member.ts, media.ts) sit on `request()`.
 */

/** One line per attempt; see `formatAttemptLine`. Never given secrets. */
export type Logger = (line: string) => void

export interface WechatPayClientOptions {
  /** Base URL: `https://api.mch.weixin.qq.com`, or the emulator's URL. A path prefix is part of the signed URL. */
  endpoint: string
  mchid: string
  /** Serial of the merchant API certificate (upper-case hex), sent as `serial_no`. */
  merchantSerial: string
  /** The merchant API private key, PEM or a KeyObject. */
  merchantPrivateKey: KeyObject | string
  /** The key that signs responses: WeChat Pay public key or platform certificates. */
  verification: VerificationKeys
  /** Milliseconds since the epoch; injectable so tests can skew the clock. */
  clock?: () => number
  /** [0, 1); injectable for deterministic jitter. */
  random?: () => number
  sleep?: Sleep
  retry?: Partial<RetryOptions>
  /**
   * `false` turns the limiter off. A value overrides the per-family defaults (DEFAULT_RATE_LIMITS) for every family,
   * except that it can only tighten the image upload's documented per-minute limit (effectiveRateLimit); burst
   * defaults to 1 (for the image upload, to its documented burst).
   */
  rateLimit?: false | {qps: number; burst?: number}
  /** Where the buckets live; the process-wide registry by default, so clients of one merchant share a bucket. */
  rateLimiters?: RateLimiterRegistry
  transport?: Partial<TransportOptions>
  /** Debug log sink. When absent, `CARDFORM_LOG=debug` sends the lines to stderr. */
  logger?: Logger
  userAgent?: string
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

export type QueryValue = string | number | boolean | undefined

export interface WechatPayRequest {
  method: HttpMethod
  /** Absolute API path such as `/v3/marketing/membercard-open/cards`, without the query. */
  path: string
  /** Serialized once, in insertion order; undefined values are left out. */
  query?: Record<string, QueryValue>
  /** Serialized once with JSON.stringify; those exact bytes are signed and sent (and re-sent on retries). */
  body?: unknown
  /** Instead of `body`: bytes sent as they are, with their own content type and the text the signature covers. */
  rawBody?: RawRequestBody
  /** Defaults to the method's nature (isIdempotentMethod); a create with out_request_no passes true. */
  idempotent?: boolean
}

/**
 * A body that is not the JSON it is signed over. The image upload sends multipart/form-data but signs only its `meta`
 * JSON (reference §1c, §2: "For image upload it is the meta JSON"); signing the multipart bytes is the classic
 * SIGN_ERROR of hand-rolled clients.
 */
export interface RawRequestBody {
  /** Sent as they are on every attempt (a retry must not re-encode: a new multipart boundary is another body). */
  bytes: Uint8Array
  /** The Content-Type header, e.g. `multipart/form-data; boundary=…`. */
  contentType: string
  /** The body line of the string to sign. */
  signed: string
}

export interface WechatPayResponse<T = unknown> {
  status: number
  /** The parsed JSON body; undefined for an empty body (204). */
  data: T
  headers: HeaderBag
  requestId: string | undefined
}

/** `a=1&b=x%20y`: RFC 3986 percent-encoding, undefined values skipped, keys in the order given. */
export function buildQueryString(query: Record<string, QueryValue> | undefined): string {
  if (query === undefined) return ''
  const parts: string[] = []
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue
    parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`)
  }
  return parts.join('&')
}

/** Encode one path segment (a card_id) so it cannot add segments or a query. */
export function pathSegment(value: string): string {
  if (value === '') throw new TypeError('a path segment (card_id) must not be empty')
  return encodeURIComponent(value)
}

/**
 * One debug line per attempt: method, path with query, status (or the connection error), duration, Request-ID,
 * attempt number and, when there is one, the retry decision. Takes no header, body or key, so it cannot leak them.
 */
export function formatAttemptLine(a: {
  /** Which API: `wechatpay` (default) or `aggregator`. */
  system?: string
  method: string
  url: string
  result: string
  durationMs: number
  requestId: string | undefined
  attempt: number
  maxAttempts: number
  decision: RetryDecision | undefined
  note?: string
}): string {
  let line =
    `${a.system ?? 'wechatpay'} ${a.method} ${a.url} ${a.result} ${Math.round(a.durationMs)}ms ` +
    `request-id=${a.requestId ?? '-'} attempt=${a.attempt}/${a.maxAttempts}`
  if (a.decision?.retry) line += ` retry-in=${a.decision.delayMs}ms reason="${a.decision.reason}"`
  else if (a.decision) line += ` giving-up="${a.decision.reason}"`
  if (a.note) line += ` ${a.note}`
  return line
}

/** The stderr logger when `CARDFORM_LOG=debug`, else undefined. */
export function loggerFromEnv(env: NodeJS.ProcessEnv = process.env): Logger | undefined {
  if (env.CARDFORM_LOG !== 'debug') return undefined
  return (line) => {
    process.stderr.write(`${line}\n`)
  }
}

let cachedVersion: string | undefined

/** cardform's version from package.json (found by walking up: sources run from engine/ and from dist/engine/). */
export function packageVersion(): string {
  if (cachedVersion !== undefined) return cachedVersion
  let dir = path.dirname(fileURLToPath(import.meta.url))
  for (;;) {
    const file = path.join(dir, 'package.json')
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as {name?: string; version?: string}
      if (pkg.name === 'cardform' && typeof pkg.version === 'string') return (cachedVersion = pkg.version)
    }
    const parent = path.dirname(dir)
    if (parent === dir) return (cachedVersion = '0.0.0')
    dir = parent
  }
}


/**
 * A success: any 2xx but 202. The documented ones are 200 (with the record) and 204 (no body) (reference §1a, §1b);
 * 201 is accepted too, as SDK maintainers saw it (wechatpay-axios-plugin#19: "官方有可能返回201状态码"), and the
 * official SDKs verify every 2xx (wechatpay-go CheckResponse, wechatpayv3 `range(200, 300)`). 202 is not: reference §3
 * says it was accepted but not processed, to be sent again with the same parameters (see retry.ts).
 */
export function isSuccess(status: number): boolean {
  return status >= 200 && status < 300 && status !== 202
}

export class WechatPayClient {
  readonly mchid: string
  private readonly merchantSerial: string
  private readonly privateKey: KeyObject
  private readonly verification: VerificationKeys
  private readonly clock: () => number
  private readonly random: () => number
  private readonly sleep: Sleep
  private readonly retry: RetryOptions
  private readonly rateLimit: false | RateLimitOverride | undefined
  private readonly rateLimiters: RateLimiterRegistry
  private readonly transport: HttpTransport
  private readonly logger: Logger | undefined
  private readonly userAgent: string
  /** Nonces of the answers this client accepted in the last ±300 s: a second answer with one is a replay. */
  private readonly replayGuard = new ReplayGuard()

  constructor(options: WechatPayClientOptions) {
    if (!/^\d+$/.test(options.mchid)) throw new TypeError(`mchid must be digits, got ${JSON.stringify(options.mchid)}`)
    if (options.merchantSerial.trim() === '') throw new TypeError('merchantSerial must not be empty')
    this.mchid = options.mchid
    this.merchantSerial = options.merchantSerial.trim().toUpperCase()
    this.privateKey =
      typeof options.merchantPrivateKey === 'string' ? createPrivateKey(options.merchantPrivateKey) : options.merchantPrivateKey
    if (this.privateKey.type !== 'private') throw new TypeError('merchantPrivateKey must be a private key')
    this.verification = options.verification
    this.clock = options.clock ?? Date.now
    this.random = options.random ?? Math.random
    this.sleep = options.sleep ?? realSleep
    this.retry = {...DEFAULT_RETRY_OPTIONS, ...options.retry}
    if (!(Number.isInteger(this.retry.maxAttempts) && this.retry.maxAttempts >= 1)) {
      throw new RangeError(`retry.maxAttempts must be an integer of at least 1, got ${this.retry.maxAttempts}`)
    }
    if (options.rateLimit === false || options.rateLimit === undefined) {
      this.rateLimit = options.rateLimit
    } else {
      this.rateLimit = {qps: options.rateLimit.qps, ...(options.rateLimit.burst !== undefined ? {burst: options.rateLimit.burst} : {})}
      validateRateLimit({burst: 1, ...this.rateLimit}, 'client option rateLimit')
    }
    this.rateLimiters = options.rateLimiters ?? sharedRateLimiters
    this.transport = new HttpTransport(options.endpoint, {...DEFAULT_TRANSPORT_OPTIONS, ...options.transport})
    this.logger = options.logger ?? loggerFromEnv()
    this.userAgent = options.userAgent ?? `cardform/${packageVersion()}`
  }

  /** Send one API call, with retries; resolves to verified data or rejects with a WechatPayError subclass. */
  async request<T = unknown>(req: WechatPayRequest): Promise<WechatPayResponse<T>> {
    const method = req.method.toUpperCase()
    if (!req.path.startsWith('/')) throw new TypeError(`request path must start with "/", got ${JSON.stringify(req.path)}`)
    if (req.body !== undefined && req.rawBody !== undefined) throw new TypeError('a request carries body or rawBody, not both')
    const query = buildQueryString(req.query)
    // The URL and body are fixed here, once: every attempt signs and sends these same bytes.
    const url = `${this.transport.basePath}${req.path}${query === '' ? '' : `?${query}`}`
    const payload = req.rawBody ?? (req.body === undefined ? undefined : jsonBody(req.body))
    const site = {method, path: req.path}
    const bucket = this.bucketFor(req.path)
    // What the latest attempt saw, for its debug line.
    let last = {result: '-', durationMs: 0, requestId: undefined as string | undefined}
    const logger = this.logger
    const maxAttempts = this.retry.maxAttempts
    const log = (n: number, decision: RetryDecision | undefined, note?: string): void => {
      if (logger === undefined) return
      logger(formatAttemptLine({method, url, ...last, attempt: n, maxAttempts, decision, ...(note ? {note} : {})}))
    }

    const attempt = async (n: number): Promise<AttemptResult<WechatPayResponse<T>>> => {
      if (bucket !== undefined) await bucket.acquire()
      const started = performance.now()
      let raw: RawResponse
      try {
        const headers = await this.headersFor(method, url, payload)
        raw = await this.transport.send({method, url, headers, body: payload?.bytes})
      } catch (error) {
        if (error instanceof ResponseTooLargeError) {
          // Not retried: the server answered, and would answer the same again. For a create the outcome is unknown.
          last = {result: String(error.status), durationMs: performance.now() - started, requestId: headerValue(error.headers, 'request-id')}
          log(n, undefined, `rejected=${JSON.stringify(error.message)}`)
          throw new UnexpectedResponseError({reason: error.message, site, status: error.status, requestId: last.requestId})
        }
        const failure = classifyTransportError(error)
        if (failure === undefined) throw error
        last = {result: failure.code, durationMs: performance.now() - started, requestId: undefined}
        return {
          ok: false,
          outcome: {kind: 'transport', failure},
          error: (attempts) => new TransportError({code: failure.code, reason: failure.reason, site, attempts, cause: error}),
        }
      }
      const requestId = headerValue(raw.headers, 'request-id')
      last = {result: String(raw.status), durationMs: performance.now() - started, requestId}
      if (raw.status >= 300 && raw.status < 400) {
        // Never followed, to the same host or another: the signature covers the URL, and a signed request replayed to
        // a host named by the answer would hand it our credentials' work. The outcome of the call is unknown.
        const reason = redirectRefusal(headerValue(raw.headers, 'location'), this.transport.origin)
        log(n, undefined, `rejected=${JSON.stringify(reason)}`)
        throw new UnexpectedResponseError({reason, site, status: raw.status, requestId})
      }
      // A 202 is signed like a success, but it is not one: see below.
      if (isSuccess(raw.status) || raw.status === 202) {
        const reason =
          verifyResponse({keys: this.verification, headers: raw.headers, body: raw.text, nowMs: this.clock()}) ??
          this.replayGuard.check(raw.headers, this.clock())
        if (reason !== undefined) {
          log(n, undefined, `rejected=${JSON.stringify(reason)}`)
          throw new ResponseVerificationError({reason, site, status: raw.status, requestId})
        }
        if (raw.status === 202) {
          // 202: "accepted but not yet processed; 请使用原参数重复请求一遍" (reference §3, PWX error_code.shtml). Not a
          // success: the call is repeated with the same bytes (retry.ts), and if it never completes the caller is told
          // its outcome is unknown (an ApiError whose status is not a 4xx refusal).
          return {
            ok: false,
            outcome: {kind: 'status', status: raw.status, retryAfterMs: parseRetryAfter(headerValue(raw.headers, 'retry-after'), this.clock())},
            error: (attempts) =>
              new ApiError({status: 202, code: '', apiMessage: 'accepted but not processed yet; repeat with the same parameters', requestId, site, attempts}),
          }
        }
        let data: unknown
        if (raw.text !== '') {
          try {
            data = JSON.parse(raw.text)
          } catch {
            log(n, undefined, 'rejected="body is not JSON"')
            throw new UnexpectedResponseError({reason: 'response body is not JSON', site, status: raw.status, requestId})
          }
        }
        return {ok: true, value: {status: raw.status, data: data as T, headers: raw.headers, requestId}}
      }
      const retryAfterMs = parseRetryAfter(headerValue(raw.headers, 'retry-after'), this.clock())
      return {
        ok: false,
        outcome: {kind: 'status', status: raw.status, retryAfterMs},
        error: (attempts) => createApiError({status: raw.status, bodyText: raw.text, requestId, site, attempts}),
      }
    }

    return runAttempts({
      idempotent: req.idempotent ?? isIdempotentMethod(method),
      options: this.retry,
      random: this.random,
      sleep: this.sleep,
      attempt,
      onAttempt: (n, _result, decision) => log(n, decision),
    })
  }

  async close(): Promise<void> {
    await this.transport.close()
  }

  /** Fresh timestamp, nonce and signature for every attempt: a retry is re-signed, never replayed. */
  private async headersFor(method: string, url: string, payload: RawRequestBody | undefined): Promise<Record<string, string>> {
    const timestamp = Math.floor(this.clock() / 1000)
    const nonce = createNonce()
    const body = payload?.signed ?? ''
    const signature = await signInThreadPool(requestMessage({method, url, timestamp, nonce, body}), this.privateKey)
    const headers: Record<string, string> = {
      authorization: formatAuthorization({
        mchid: this.mchid,
        serial_no: this.merchantSerial,
        nonce_str: nonce,
        timestamp: String(timestamp),
        signature,
      }),
      accept: 'application/json',
      'user-agent': this.userAgent,
    }
    if (payload !== undefined && payload.bytes.length > 0) headers['content-type'] = payload.contentType
    // Public-key mode: the request names the key WeChat Pay must sign the response with (reference §2).
    if (this.verification.mode === 'public-key') headers['wechatpay-serial'] = this.verification.publicKeyId
    return headers
  }

  private bucketFor(apiPath: string): TokenBucket | undefined {
    if (this.rateLimit === false) return undefined
    const family = rateLimitFamilyOf(apiPath)
    return this.rateLimiters.bucketFor(this.mchid, family, effectiveRateLimit(family, this.rateLimit))
  }
}

/** Why a 3xx was not followed, naming where it pointed (the host only, when it is another one). */
export function redirectRefusal(location: string | undefined, origin: string): string {
  if (location === undefined || location === '') return 'redirect without a Location refused'
  let target: URL
  try {
    target = new URL(location, origin)
  } catch {
    return `redirect to an unreadable Location refused`
  }
  if (target.origin !== origin) return `redirect to another host (${target.host}) refused`
  const shown = location.replace(/[^\x20-\x7e]/g, '?')
  return `redirect to ${JSON.stringify(shown.length > 64 ? `${shown.slice(0, 64)}…` : shown)} refused`
}

/** A JSON body: the exact bytes sent are the text signed. */
function jsonBody(value: unknown): RawRequestBody {
  const text = JSON.stringify(value)
  return {bytes: Buffer.from(text, 'utf8'), contentType: 'application/json', signed: text}
}
