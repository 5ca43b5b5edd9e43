import {Pool} from 'undici'
import type {HeaderBag} from './response-verification.js'

/**
 * One HTTP origin over an undici Pool: keep-alive connections, connect/headers/body timeouts. A client owns exactly
 * one transport and closes it in `close()`.
 */

export interface TransportOptions {
  /** TCP (and TLS) connect timeout. */
  connectTimeoutMs: number
  /** Time to wait for the response headers once the request is sent. */
  headersTimeoutMs: number
  /** Longest silence while reading the response body. */
  bodyTimeoutMs: number
  /** How long an idle kept-alive connection stays open. */
  keepAliveTimeoutMs: number
  /** Most connections the pool opens to the origin. */
  connections: number
  /**
   * Largest response body read, in bytes. The API's biggest answer is a list page of 20 card records (reference §5:
   * limit ≤ 20), a few tens of KiB; a server that sends more is broken or hostile, and reading on would only spend
   * memory. A Content-Length above it is refused before reading; a chunked body is cut off by undici's
   * `maxResponseSize` (undici docs/api/Client.md), which destroys the socket, so memory stays bounded.
   */
  maxResponseBytes: number
  /**
   * Longest time one attempt may take from sending to the last body byte. `bodyTimeoutMs` only bounds the silence
   * between chunks (undici docs/api/Client.md: "Monitors time between receiving body data"), so a server trickling a
   * byte at a time (slowloris) would hold a run forever without this deadline.
   */
  responseTimeoutMs: number
}

export const DEFAULT_TRANSPORT_OPTIONS: TransportOptions = {
  connectTimeoutMs: 5_000,
  headersTimeoutMs: 10_000,
  bodyTimeoutMs: 10_000,
  keepAliveTimeoutMs: 30_000,
  connections: 16,
  maxResponseBytes: 4 * 1024 * 1024,
  responseTimeoutMs: 30_000,
}

/** An answer larger than `maxResponseBytes`: not retried (the server would send it again), its body never kept. */
export class ResponseTooLargeError extends Error {
  override name = 'ResponseTooLargeError'
  readonly code = 'CARDFORM_RESPONSE_TOO_LARGE'
  constructor(
    readonly status: number,
    readonly headers: HeaderBag,
    readonly limitBytes: number,
    readonly declaredBytes?: number,
  ) {
    super(`response body exceeds ${formatBytes(limitBytes)}${declaredBytes === undefined ? '' : ` (Content-Length ${declaredBytes})`}`)
  }
}

/** The attempt outlived `responseTimeoutMs`; classified like a body timeout (retry.ts). */
export class ResponseDeadlineError extends Error {
  override name = 'ResponseDeadlineError'
  readonly code = 'CARDFORM_RESPONSE_DEADLINE'
  constructor(readonly timeoutMs: number) {
    super(`response not complete within ${timeoutMs} ms`)
  }
}

/** `4 MiB`, `1 KiB`, `100 bytes`: whole binary units when the value is one. */
export function formatBytes(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`
  return `${n} bytes`
}

export interface RawResponse {
  status: number
  headers: HeaderBag
  /** The body exactly as received, decoded as UTF-8 (the string responses are signed over). */
  text: string
}

export class HttpTransport {
  /** `https://host[:port]` */
  readonly origin: string
  /** The endpoint's path prefix without a trailing slash ('' for a bare host); it is part of the signed URL. */
  readonly basePath: string
  private readonly pool: Pool
  private readonly maxResponseBytes: number
  private readonly responseTimeoutMs: number

  constructor(endpoint: string, options: TransportOptions) {
    let url: URL
    try {
      url = new URL(endpoint)
    } catch {
      throw new TypeError(`endpoint is not a URL: ${JSON.stringify(endpoint)}`)
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new TypeError(`endpoint must be an http(s) URL, got ${JSON.stringify(endpoint)}`)
    }
    if (url.search !== '' || url.hash !== '') {
      throw new TypeError(`endpoint must not carry a query or fragment: ${JSON.stringify(endpoint)}`)
    }
    if (!(Number.isInteger(options.maxResponseBytes) && options.maxResponseBytes > 0)) {
      throw new RangeError(`transport.maxResponseBytes must be a positive integer, got ${options.maxResponseBytes}`)
    }
    if (!(options.responseTimeoutMs > 0)) {
      throw new RangeError(`transport.responseTimeoutMs must be positive, got ${options.responseTimeoutMs}`)
    }
    this.origin = url.origin
    this.maxResponseBytes = options.maxResponseBytes
    this.responseTimeoutMs = options.responseTimeoutMs
    this.basePath = url.pathname.replace(/\/+$/, '')
    this.pool = new Pool(this.origin, {
      connections: options.connections,
      keepAliveTimeout: options.keepAliveTimeoutMs,
      headersTimeout: options.headersTimeoutMs,
      bodyTimeout: options.bodyTimeoutMs,
      connect: {timeout: options.connectTimeoutMs},
      maxResponseSize: options.maxResponseBytes,
    })
  }

  /**
   * Send one request and read the whole body, at most `maxResponseBytes` of it within `responseTimeoutMs`.
   * Connection failures are thrown as undici/node errors, an oversized body as ResponseTooLargeError, the deadline
   * as ResponseDeadlineError. Redirects are never followed: no redirect interceptor is composed onto the pool
   * (undici v7 follows redirects only through `interceptors.redirect`), so a 3xx comes back as it is.
   */
  async send(request: {
    method: string
    /** Path with the base path and query, as signed. */
    url: string
    headers: Record<string, string>
    body: Uint8Array | undefined
  }): Promise<RawResponse> {
    const deadline = new AbortController()
    const timer = setTimeout(() => deadline.abort(new ResponseDeadlineError(this.responseTimeoutMs)), this.responseTimeoutMs)
    try {
      const res = await this.pool.request({
        path: request.url,
        method: request.method as 'GET',
        headers: request.headers,
        body: request.body ?? null,
        signal: deadline.signal,
      })
      const headers = res.headers as HeaderBag
      const declared = Number(res.headers['content-length'])
      if (Number.isFinite(declared) && declared > this.maxResponseBytes) {
        res.body.destroy()
        throw new ResponseTooLargeError(res.statusCode, headers, this.maxResponseBytes, declared)
      }
      let text: string
      try {
        text = await res.body.text()
      } catch (e) {
        if ((e as {code?: unknown}).code === 'UND_ERR_RES_EXCEEDED_MAX_SIZE') {
          throw new ResponseTooLargeError(res.statusCode, headers, this.maxResponseBytes)
        }
        throw e
      }
      return {status: res.statusCode, headers, text}
    } catch (e) {
      // An abort surfaces as the signal's reason, or as undici's RequestAbortedError: name the deadline either way.
      if (deadline.signal.aborted && !(e instanceof ResponseDeadlineError)) throw new ResponseDeadlineError(this.responseTimeoutMs)
      throw e
    } finally {
      clearTimeout(timer)
    }
  }

  async close(): Promise<void> {
    if (!this.pool.closed) await this.pool.close()
  }
}
