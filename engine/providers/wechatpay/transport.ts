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
}

export const DEFAULT_TRANSPORT_OPTIONS: TransportOptions = {
  connectTimeoutMs: 5_000,
  headersTimeoutMs: 10_000,
  bodyTimeoutMs: 10_000,
  keepAliveTimeoutMs: 30_000,
  connections: 16,
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
    this.origin = url.origin
    this.basePath = url.pathname.replace(/\/+$/, '')
    this.pool = new Pool(this.origin, {
      connections: options.connections,
      keepAliveTimeout: options.keepAliveTimeoutMs,
      headersTimeout: options.headersTimeoutMs,
      bodyTimeout: options.bodyTimeoutMs,
      connect: {timeout: options.connectTimeoutMs},
    })
  }

  /** Send one request and read the whole body. Connection failures are thrown as undici/node errors. */
  async send(request: {
    method: string
    /** Path with the base path and query, as signed. */
    url: string
    headers: Record<string, string>
    body: Uint8Array | undefined
  }): Promise<RawResponse> {
    const res = await this.pool.request({
      path: request.url,
      method: request.method as 'GET',
      headers: request.headers,
      body: request.body ?? null,
    })
    const text = await res.body.text()
    return {status: res.statusCode, headers: res.headers as HeaderBag, text}
  }

  async close(): Promise<void> {
    if (!this.pool.closed) await this.pool.close()
  }
}
