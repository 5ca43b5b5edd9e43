import type {IncomingMessage, ServerResponse} from 'node:http'
import {randomBytes} from 'node:crypto'
import {
  AUTH_SCHEME,
  MAX_CLOCK_SKEW_SECONDS,
  createNonce,
  parseAuthorization,
  requestMessage,
  responseMessage,
  signInThreadPool,
  verifyMessage,
} from '../engine/providers/wechatpay/signing.js'
import {ApiError} from './errors.js'
import type {EmulatorKeys} from './credentials.js'
import type {CardStore} from './store.js'
import type {Random} from './random.js'
import {matchRoute} from './routes.js'
import {checkGeneralRules} from './validate.js'
import {AGGREGATOR_PATH, aggregatorError, createAggregatorCard} from './aggregator.js'
import {AdminError, adminCardView, adminMediaView, mutateCard, reviewCard} from './admin.js'
import type {HandlerEnv} from './handler.js'
import {CONTENT_TYPES, MAX_IMAGE_BYTES, MEDIA_PREFIX, MEDIA_UPLOAD_PATH, parseMediaPath, readUploadForm, type UploadForm} from './media.js'
import {ReviewError, parseVerdict, type ReviewDelay} from './review.js'

/** The realism knobs (EMULATOR.md "Realism knobs"). */
export interface Knobs {
  latencyMs: number
  latencyJitterMs: number
  /** Requests per second per mchid; 0 = unlimited. */
  rateLimitQps: number
  /** Probability of 500 SYSTEM_ERROR before any change. */
  failRate: number
  /** Probability of a connection reset after the change was applied. */
  dropRate: number
  /** How long a created or edited membercard-open template stays NOT_APPROVE (review.ts). */
  reviewDelay: ReviewDelay
}

export interface EmulatorStats {
  requests: number
  by_route: Record<string, number>
  by_status: Record<string, number>
  by_route_status: Record<string, Record<string, number>>
  cards_created: number
  /** Distinct images stored by uploads (the same bytes uploaded again add nothing). */
  media_uploaded: number
  injected_failures: number
  dropped_connections: number
  rate_limited: number
}

export function emptyStats(): EmulatorStats {
  return {
    requests: 0,
    by_route: {},
    by_status: {},
    by_route_status: {},
    cards_created: 0,
    media_uploaded: 0,
    injected_failures: 0,
    dropped_connections: 0,
    rate_limited: 0,
  }
}

const MAX_BODY_BYTES = 1 << 20
/**
 * The image upload's body cap: the 2 MiB image, the meta and the multipart framing, with room to spare so that an image
 * somewhat over 2 MiB still gets the API's own answer (400 PARAM_ERROR) rather than a bare 413.
 */
const MAX_UPLOAD_BODY_BYTES = 2 * MAX_IMAGE_BYTES

/**
 * `Wechatpay-Signature-Type` of every signed answer: the official verification page shows
 * `WECHATPAY2-SHA256-RSA2048` on a real answer (EMULATOR.md "Response headers"); the same name as the request scheme.
 */
const SIGNATURE_TYPE = AUTH_SCHEME

interface Bucket {
  tokens: number
  last: number
}

/** Where the response signature comes from: the request's Wechatpay-Serial decides (reference §2). */
type SigningMode = 'public-key' | 'certificate'

/**
 * The HTTP side of the emulator: routing, the APIv3 transport rules (signatures, headers, general body rules), the
 * realism knobs, the admin routes and the aggregator route. The business rules live in the family modules.
 */
export class EmulatorServer {
  stats: EmulatorStats = emptyStats()
  private buckets = new Map<string, Bucket>()
  /** `mchid route` → times (ms) of the requests admitted in the last minute, for routes with a per-minute limit. */
  private windows = new Map<string, number[]>()

  constructor(
    private readonly keys: EmulatorKeys,
    private readonly store: CardStore,
    private readonly random: Random,
    private readonly knobs: Knobs,
    private readonly clock: () => number,
  ) {}

  get env(): HandlerEnv {
    return {store: this.store, random: this.random, reviewDelay: this.knobs.reviewDelay, baseUrl: this.keys.credentials.endpoint}
  }

  reset(): void {
    this.store.clear()
    this.stats = emptyStats()
    this.buckets.clear()
    this.windows.clear()
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://emulator')
    let raw: Buffer
    try {
      raw = await readBody(req, url.pathname === MEDIA_UPLOAD_PATH ? MAX_UPLOAD_BODY_BYTES : MAX_BODY_BYTES)
    } catch {
      res.writeHead(413).end()
      return
    }
    const method = (req.method ?? 'GET').toUpperCase()
    if (url.pathname.startsWith('/__admin/')) return this.handleAdmin(method, url, raw, res)
    if (url.pathname.startsWith(MEDIA_PREFIX)) return this.handleMedia(method, url, res)
    if (url.pathname === AGGREGATOR_PATH) return this.handleAggregator(method, req, raw, res)
    return this.handleV3(method, url, req, raw, res)
  }

  private count(route: string, status: number): void {
    const s = this.stats
    s.requests++
    s.by_route[route] = (s.by_route[route] ?? 0) + 1
    s.by_status[status] = (s.by_status[status] ?? 0) + 1
    const rs = (s.by_route_status[route] ??= {})
    rs[status] = (rs[status] ?? 0) + 1
  }

  private async handleV3(method: string, url: URL, req: IncomingMessage, raw: Buffer, res: ServerResponse): Promise<void> {
    const match = matchRoute(method, url.pathname)
    const routeName = match && 'route' in match ? match.route.name : `${method} (unknown route)`
    const serialHeader = header(req, 'wechatpay-serial')
    // Public-key mode when the request names the public key id, platform-certificate mode otherwise (reference §2).
    const mode: SigningMode = serialHeader === this.keys.credentials.wechatpay_public_key_id ? 'public-key' : 'certificate'
    let dropAfter = false
    let status: number
    let payload: unknown
    let extraHeaders: Record<string, string> = {}
    try {
      await this.delay()
      if (!match) throw new ApiError(404, 'NOT_FOUND', `请求的URL不存在: ${method} ${url.pathname}`)
      if (!('route' in match)) {
        throw new ApiError(405, 'METHOD_NOT_ALLOWED', `该URL不支持${method}方法,支持: ${match.allowed.join(', ')}`, undefined, {
          Allow: match.allowed.join(', '),
        })
      }
      // A JSON route signs its body; the multipart upload signs its meta part (ref §1c, §2), read before verifying.
      let rawBody = ''
      let form: UploadForm | undefined
      if (match.route.body === 'multipart') {
        checkAccept(req)
        form = await readUploadForm(header(req, 'content-type'), raw)
      } else {
        rawBody = raw.toString('utf8')
        checkHeaders(req, rawBody)
      }
      const mchid = this.verifySignature(req, method, url, form ? form.meta : rawBody)
      if (serialHeader !== undefined && mode !== 'public-key' && serialHeader !== this.keys.credentials.platform_certificate_serial) {
        throw new ApiError(400, 'INVALID_REQUEST', `Wechatpay-Serial“${serialHeader}”不是有效的微信支付公钥ID或平台证书序列号`, {
          field: 'Wechatpay-Serial',
          location: 'header',
        })
      }
      this.rateLimit(mchid)
      if (match.route.perMinute !== undefined) this.limitPerMinute(mchid, match.route.name, match.route.perMinute)
      if (this.knobs.failRate > 0 && this.random() < this.knobs.failRate) {
        this.stats.injected_failures++
        throw new ApiError(500, 'SYSTEM_ERROR', '系统繁忙,请稍后重试')
      }
      const body = form ? undefined : parseBody(rawBody)
      const created = this.store.size
      const media = this.store.mediaCount
      const request = {mchid, params: match.params, query: url.searchParams, body, ...(form ? {form} : {}), now: this.clock()}
      const reply = match.route.handler(request, this.env)
      this.stats.cards_created += this.store.size - created
      this.stats.media_uploaded += this.store.mediaCount - media
      await this.store.flush()
      status = reply.status
      payload = reply.body
      dropAfter = this.knobs.dropRate > 0 && this.random() < this.knobs.dropRate
    } catch (error) {
      if (!(error instanceof ApiError)) throw error
      status = error.status
      payload = error.toBody()
      extraHeaders = error.headers ?? {}
    }
    this.count(routeName, status)
    if (dropAfter) {
      // The change is applied (and persisted); the client sees a reset connection and no answer.
      this.stats.dropped_connections++
      req.socket.resetAndDestroy()
      return
    }
    await this.sendSigned(res, status, payload, mode, extraHeaders)
  }

  /**
   * Verify the Authorization header (reference §2): scheme and five items, known mchid and serial, a timestamp within
   * ±300 s, and the SHA256withRSA signature of method, path+query, timestamp, nonce and the exact body.
   * Every failure is 401 SIGN_ERROR; the messages other than "错误的签名,验签失败" are invented.
   */
  private verifySignature(req: IncomingMessage, method: string, url: URL, rawBody: string): string {
    const auth = parseAuthorization(header(req, 'authorization'))
    const signError = (message: string, issue: string, field = 'authorization') =>
      new ApiError(401, 'SIGN_ERROR', message, {field, location: 'header', issue})
    if (typeof auth === 'string') throw signError('Http头Authorization值格式错误,请参考《微信支付商户REST API签名规则》', auth)
    const c = this.keys.credentials
    if (auth.mchid !== c.mchid) throw signError(`商户号“${auth.mchid}”不存在或未开通APIv3`, 'unknown mchid', 'mchid')
    if (auth.serial_no.toUpperCase() !== c.merchant_serial) {
      throw signError('商户证书序列号有误。请使用签名私钥匹配的证书序列号', 'unknown serial_no', 'serial_no')
    }
    const timestamp = Number(auth.timestamp)
    const now = Math.floor(this.clock() / 1000)
    if (!/^\d{1,12}$/.test(auth.timestamp) || Math.abs(now - timestamp) > MAX_CLOCK_SKEW_SECONDS) {
      throw signError('签名中的时间戳已过期或无效,请使用当前时间(秒)重新签名', `timestamp ${auth.timestamp} is more than ${MAX_CLOCK_SKEW_SECONDS}s away from ${now}`, 'timestamp')
    }
    // The signed URL is the request target as sent: path plus "?query" when there is one.
    const target = url.pathname + url.search
    const message = requestMessage({method, url: target, timestamp, nonce: auth.nonce_str, body: rawBody})
    if (!verifyMessage(message, auth.signature, this.keys.merchantPublicKey)) {
      // The documented body of a real SIGN_ERROR (reference §3), detail and sign_information included.
      const head = `${method}\n${target}\n${timestamp}\n${auth.nonce_str}\n`
      throw new ApiError(401, 'SIGN_ERROR', '错误的签名,验签失败', {
        detail: {issue: 'sign not match'},
        field: 'signature',
        location: 'authorization',
        sign_information: {
          method,
          sign_message_length: Buffer.byteLength(message, 'utf8'),
          truncated_sign_message: `${head}${[...rawBody].slice(0, 16).join('')}\n`,
          url: target,
        },
      })
    }
    return auth.mchid
  }

  private rateLimit(mchid: string): void {
    const qps = this.knobs.rateLimitQps
    if (qps <= 0) return
    const now = this.clock()
    const b = this.buckets.get(mchid) ?? {tokens: qps, last: now}
    b.tokens = Math.min(qps, b.tokens + ((now - b.last) / 1000) * qps)
    b.last = now
    this.buckets.set(mchid, b)
    if (b.tokens < 1) {
      this.stats.rate_limited++
      const retryAfter = Math.max(1, Math.ceil((1 - b.tokens) / qps))
      throw new ApiError(429, 'RATELIMIT_EXCEEDED', '请求未受理,请降低频率后重试', undefined, {'Retry-After': String(retryAfter)})
    }
    b.tokens -= 1
  }

  /**
   * A route's documented per-minute limit (the image upload's 100, ref §1c): the requests admitted for this merchant
   * and route in the last 60 s, a sliding window [inferred: the docs do not say fixed or sliding; sliding is the
   * stricter]. Refused requests do not count. Same answer as the qps knob: 429 RATELIMIT_EXCEEDED with Retry-After.
   */
  private limitPerMinute(mchid: string, route: string, limit: number): void {
    const now = this.clock()
    const key = `${mchid} ${route}`
    const times = (this.windows.get(key) ?? []).filter((t) => t > now - 60_000)
    this.windows.set(key, times)
    if (times.length >= limit) {
      this.stats.rate_limited++
      const retryAfter = Math.max(1, Math.ceil((times[0]! + 60_000 - now) / 1000))
      throw new ApiError(429, 'RATELIMIT_EXCEEDED', '请求未受理,请降低频率后重试', undefined, {'Retry-After': String(retryAfter)})
    }
    times.push(now)
  }

  /**
   * GET (or HEAD) /media/<sha256>.<ext>: an uploaded image, unsigned, like a public CDN URL [invented: the real URLs
   * point at WeChat's own hosts]. 404 when unknown, 405 for other methods.
   */
  private handleMedia(method: string, url: URL, res: ServerResponse): void {
    const route = `GET ${MEDIA_PREFIX}{sha256}.{ext}`
    const send = (status: number, headers: Record<string, string | number>, body?: Buffer | string) => {
      this.count(route, status)
      res.writeHead(status, headers)
      res.end(method === 'HEAD' ? undefined : body)
    }
    if (method !== 'GET' && method !== 'HEAD') {
      return send(405, {Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8'}, `method ${method} not allowed\n`)
    }
    const wanted = parseMediaPath(url.pathname)
    const record = wanted ? this.store.getMedia(wanted.sha256) : undefined
    if (!record || record.format !== wanted?.format) {
      return send(404, {'Content-Type': 'text/plain; charset=utf-8'}, `no media ${url.pathname}\n`)
    }
    send(
      200,
      {
        'Content-Type': CONTENT_TYPES[record.format],
        'Content-Length': record.bytes.length,
        // The name is the content's hash: it can never change.
        'Cache-Control': 'public, max-age=31536000, immutable',
        ETag: `"${record.sha256}"`,
      },
      record.bytes,
    )
  }

  private async delay(): Promise<void> {
    const {latencyMs, latencyJitterMs} = this.knobs
    if (latencyMs <= 0 && latencyJitterMs <= 0) return
    const ms = Math.max(0, latencyMs + (this.random() * 2 - 1) * latencyJitterMs)
    await new Promise((resolve) => setTimeout(resolve, ms))
  }

  /**
   * Every /v3 answer, error or not, is signed and carries the headers of the official example of a real answer
   * (EMULATOR.md "Response headers" gives the source of each): Request-ID, Content-Language, Cache-Control,
   * X-Content-Type-Options, Content-Type (on a 204 too, as a real one showed), and the five Wechatpay-* headers,
   * Wechatpay-Signature-Type included (wechatpayv3 refuses an answer without it).
   */
  private async sendSigned(res: ServerResponse, status: number, payload: unknown, mode: SigningMode, extra: Record<string, string>): Promise<void> {
    const body = payload === undefined ? '' : JSON.stringify(payload)
    const timestamp = Math.floor(this.clock() / 1000)
    const nonce = createNonce()
    const c = this.keys.credentials
    const key = mode === 'public-key' ? this.keys.wechatpayPrivateKey : this.keys.platformPrivateKey
    const headers: Record<string, string | number> = {
      ...extra,
      'Content-Type': 'application/json; charset=utf-8',
      'Cache-Control': 'no-cache, must-revalidate',
      'X-Content-Type-Options': 'nosniff',
      'Request-ID': requestId(),
      'Content-Language': 'zh-CN',
      'Wechatpay-Nonce': nonce,
      'Wechatpay-Signature': await signInThreadPool(responseMessage(timestamp, nonce, body), key),
      'Wechatpay-Timestamp': String(timestamp),
      'Wechatpay-Serial': mode === 'public-key' ? c.wechatpay_public_key_id : c.platform_certificate_serial,
      'Wechatpay-Signature-Type': SIGNATURE_TYPE,
    }
    // RFC 9110 §8.6 forbids Content-Length on a 204 (the real API sends "0"; clients ignore it either way).
    if (status !== 204) headers['Content-Length'] = Buffer.byteLength(body)
    res.writeHead(status, headers)
    res.end(body)
  }

  private handleAggregator(method: string, req: IncomingMessage, raw: Buffer, res: ServerResponse): void {
    const route = `${method} ${AGGREGATOR_PATH}`
    const send = (httpStatus: number, body: unknown) => {
      this.count(route, httpStatus)
      const text = JSON.stringify(body)
      res.writeHead(httpStatus, {'Content-Type': 'application/json; charset=utf-8', 'Request-ID': requestId()})
      res.end(text)
    }
    if (method !== 'POST') {
      const e = aggregatorError(405, `不支持${method}方法`)
      return send(e.httpStatus, e.body)
    }
    if (header(req, 'authorization') !== `Bearer ${this.keys.credentials.aggregator_token}`) {
      const e = aggregatorError(401, '未授权: Authorization 应为 Bearer <aggregator_token>')
      return send(e.httpStatus, e.body)
    }
    let body: unknown
    try {
      body = JSON.parse(raw.toString('utf8'))
    } catch {
      const e = aggregatorError(200, '请求报文不是合法的JSON')
      return send(e.httpStatus, e.body)
    }
    const created = this.store.size
    const reply = createAggregatorCard(body, this.keys.credentials.mchid, this.env, this.clock())
    this.stats.cards_created += this.store.size - created
    void this.store.flush().then(() => send(reply.httpStatus, reply.body), () => send(500, aggregatorError(500, '系统繁忙').body))
  }

  private async handleAdmin(method: string, url: URL, raw: Buffer, res: ServerResponse): Promise<void> {
    const send = (status: number, body: unknown) => {
      const text = JSON.stringify(body, null, 2)
      res.writeHead(status, {'Content-Type': 'application/json; charset=utf-8'})
      res.end(text)
    }
    const path = url.pathname
    try {
      if (method === 'GET' && path === '/__admin/cards') return send(200, this.store.all().map((r) => adminCardView(r, this.clock())))
      if (method === 'GET' && path === '/__admin/stats') return send(200, this.stats)
      if (method === 'GET' && path === '/__admin/media') return send(200, this.store.allMedia().map((r) => adminMediaView(r, this.env.baseUrl)))
      if (method === 'POST' && path === '/__admin/reset') {
        this.reset()
        await this.store.flush()
        return send(200, {reset: true})
      }
      const m = /^\/__admin\/cards\/([^/]+)$/.exec(path)
      if (m) {
        const id = decodeURIComponent(m[1]!)
        if (method === 'GET') {
          const r = this.store.get(id)
          return r ? send(200, adminCardView(r, this.clock())) : send(404, {error: `no card ${id}`})
        }
        if (method === 'PATCH') {
          let patch: unknown
          try {
            patch = JSON.parse(raw.toString('utf8'))
          } catch {
            return send(400, {error: 'the body is not valid JSON'})
          }
          const view = mutateCard(this.store, id, patch, this.clock())
          await this.store.flush()
          return send(200, view)
        }
      }
      const review = /^\/__admin\/cards\/([^/]+)\/review$/.exec(path)
      if (review && method === 'POST') {
        let body: unknown
        try {
          body = JSON.parse(raw.toString('utf8'))
        } catch {
          return send(400, {error: 'the body is not valid JSON'})
        }
        const view = reviewCard(this.store, decodeURIComponent(review[1]!), parseVerdict(body), this.clock())
        await this.store.flush()
        return send(200, view)
      }
      return send(404, {error: `no admin route ${method} ${path}`})
    } catch (error) {
      if (error instanceof AdminError || error instanceof ReviewError) return send(error.status, {error: error.message})
      throw error
    }
  }
}


function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name]
  return Array.isArray(v) ? v[0] : v
}

/**
 * "every request must send Content-Type: application/json and Accept: application/json" (reference §5, basic-rules).
 * Decision (invented): 400 INVALID_REQUEST naming the header. Content-Type is required only when there is a body.
 */
function checkHeaders(req: IncomingMessage, rawBody: string): void {
  checkAccept(req)
  const type = header(req, 'content-type') ?? ''
  if (rawBody !== '' && !type.toLowerCase().startsWith('application/json')) {
    throw new ApiError(400, 'INVALID_REQUEST', `Http头Content-Type值应为application/json,实际为“${type}”`, {
      field: 'Content-Type',
      location: 'header',
    })
  }
}

function checkAccept(req: IncomingMessage): void {
  const accept = header(req, 'accept') ?? ''
  if (!accept.toLowerCase().includes('application/json')) {
    throw new ApiError(400, 'INVALID_REQUEST', `Http头Accept值应为application/json,实际为“${accept}”`, {field: 'Accept', location: 'header'})
  }
}

function parseBody(rawBody: string): unknown {
  if (rawBody.trim() === '') return undefined
  let body: unknown
  try {
    body = JSON.parse(rawBody)
  } catch (error) {
    throw new ApiError(400, 'PARAM_ERROR', `请求报文主体不是合法的JSON: ${(error as Error).message}`, {field: '/', location: 'body'})
  }
  checkGeneralRules(body)
  return body
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (c: Buffer) => {
      size += c.length
      if (size > limit) {
        reject(new Error('body too large'))
        req.destroy()
        return
      }
      chunks.push(c)
    })
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

/** Shaped like real Request-IDs: upper-case hex and a "-0" suffix (invented detail). */
function requestId(): string {
  return randomBytes(22).toString('hex').toUpperCase() + '-0'
}
