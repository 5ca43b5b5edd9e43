/**
 * Errors of the WeChat Pay provider: one class per concern, all extending WechatPayError so callers can tell a
 * remote failure from a bug of ours. Messages are shaped "what failed: where" (style.md) and NEVER carry the
 * Authorization header, a signature, key material or a response body we could not verify.
 */

/** Where a request went: `PATCH /v3/marketing/membercard-open/cards/pXX` (path without the query string). */
export interface RequestSite {
  method: string
  path: string
}

export function formatSite(site: RequestSite): string {
  return `${site.method.toUpperCase()} ${site.path}`
}

export class WechatPayError extends Error {
  override name = 'WechatPayError'
}

/**
 * The remote API answered with an error status. `code`, `message` and `detail` come from the documented error body
 * `{"code","message","detail"?}` (reference §3); a body that is not that shape leaves `code` empty and keeps a short
 * excerpt in `apiMessage`.
 */
export class ApiError extends WechatPayError {
  override name = 'ApiError'
  readonly status: number
  readonly code: string
  readonly apiMessage: string
  readonly detail: unknown
  readonly requestId: string | undefined
  readonly method: string
  readonly path: string
  /** Attempts made, retries included. */
  readonly attempts: number
  /**
   * What failed and where, without the status, code and Request-ID: for a caller that shows those beside it as fields
   * (apply's failure lines and JSON document), so each is said once.
   */
  readonly summary: string

  constructor(init: {
    status: number
    code: string
    apiMessage: string
    detail?: unknown
    requestId: string | undefined
    site: RequestSite
    attempts: number
  }) {
    const what = [String(init.status), init.code, init.apiMessage].filter((s) => s !== '').join(' ')
    const rid = init.requestId ? ` (Request-ID ${init.requestId})` : ''
    super(`${formatSite(init.site)} failed: ${what}${rid}`)
    this.summary = `${formatSite(init.site)} failed${init.apiMessage !== '' ? `: ${init.apiMessage}` : ''}`
    this.status = init.status
    this.code = init.code
    this.apiMessage = init.apiMessage
    this.detail = init.detail
    this.requestId = init.requestId
    this.method = init.site.method.toUpperCase()
    this.path = init.site.path
    this.attempts = init.attempts
  }
}

/** 429: the API's rate limit was hit (RATELIMIT_EXCEEDED, RATE_LIMITED or FREQUENCY_LIMITED; reference §3). */
export class RateLimitError extends ApiError {
  override name = 'RateLimitError'
}

/**
 * A 2xx response whose signature headers are missing, stale, signed by an unknown key or do not verify. The body is
 * withheld: data we cannot authenticate is never returned.
 */
export class ResponseVerificationError extends WechatPayError {
  override name = 'ResponseVerificationError'
  readonly method: string
  readonly path: string
  readonly status: number
  readonly requestId: string | undefined
  /** What failed, e.g. `response signature does not verify with PUB_KEY_ID_0114…`. */
  readonly reason: string

  constructor(init: {reason: string; site: RequestSite; status: number; requestId: string | undefined}) {
    const rid = init.requestId ? ` (Request-ID ${init.requestId})` : ''
    super(`${init.reason}: ${formatSite(init.site)} answered ${init.status}${rid}; the response was rejected`)
    this.reason = init.reason
    this.method = init.site.method.toUpperCase()
    this.path = init.site.path
    this.status = init.status
    this.requestId = init.requestId
  }
}

/** A verified 2xx response whose body is not the JSON the API documents. */
export class UnexpectedResponseError extends WechatPayError {
  override name = 'UnexpectedResponseError'
  readonly method: string
  readonly path: string
  readonly status: number
  readonly requestId: string | undefined

  constructor(init: {reason: string; site: RequestSite; status: number; requestId: string | undefined}) {
    const rid = init.requestId ? ` (Request-ID ${init.requestId})` : ''
    super(`${init.reason}: ${formatSite(init.site)} answered ${init.status}${rid}`)
    this.method = init.site.method.toUpperCase()
    this.path = init.site.path
    this.status = init.status
    this.requestId = init.requestId
  }
}

/** No usable HTTP response: connection refused or reset, socket closed, a timeout. */
export class TransportError extends WechatPayError {
  override name = 'TransportError'
  readonly method: string
  readonly path: string
  /** The low-level code, e.g. ECONNRESET, UND_ERR_SOCKET, UND_ERR_HEADERS_TIMEOUT. */
  readonly code: string
  readonly attempts: number

  constructor(init: {code: string; reason: string; site: RequestSite; attempts: number; cause?: unknown}) {
    const tries = init.attempts === 1 ? '1 attempt' : `${init.attempts} attempts`
    super(`${init.reason} (${init.code}): ${formatSite(init.site)} after ${tries}`, {cause: init.cause})
    this.method = init.site.method.toUpperCase()
    this.path = init.site.path
    this.code = init.code
    this.attempts = init.attempts
  }
}

/** The provider configuration or credentials are incomplete or unreadable: the user's to fix. */
export class CredentialsError extends WechatPayError {
  override name = 'CredentialsError'
}

/**
 * The aggregator (seed 000) answered with its own error envelope: `status !== 1` or `data.errcode !== 0`, or an HTTP
 * error. Not an APIv3 error: the aggregator has no Request-ID and no signature.
 */
export class AggregatorError extends WechatPayError {
  override name = 'AggregatorError'
  readonly httpStatus: number
  readonly status: number | undefined
  readonly errcode: number | undefined
  readonly errmsg: string
  readonly path: string
  /** As ApiError's: what failed and where, without HTTP status, status and errcode. */
  readonly summary: string

  constructor(init: {
    httpStatus: number
    status: number | undefined
    errcode: number | undefined
    errmsg: string
    site: RequestSite
  }) {
    const codes = [
      `HTTP ${init.httpStatus}`,
      init.status === undefined ? '' : `status ${init.status}`,
      init.errcode === undefined ? '' : `errcode ${init.errcode}`,
    ].filter((s) => s !== '')
    super(`${formatSite(init.site)} failed: ${codes.join(', ')} ${init.errmsg}`.trimEnd())
    this.summary = `${formatSite(init.site)} failed${init.errmsg !== '' ? `: ${init.errmsg}` : ''}`
    this.httpStatus = init.httpStatus
    this.status = init.status
    this.errcode = init.errcode
    this.errmsg = init.errmsg
    this.path = init.site.path
  }
}

export interface ErrorBody {
  code: string
  message: string
  detail?: unknown
}

/** Longest excerpt of a non-JSON error body kept in a message. */
const EXCERPT_CHARS = 200

/**
 * Read the documented error body `{"code","message","detail"?}` (reference §3). Anything else (an HTML page from a
 * proxy, an empty body) yields an empty code and a one-line excerpt, so the error still says what came back.
 */
export function parseErrorBody(text: string): ErrorBody {
  try {
    const parsed: unknown = JSON.parse(text)
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
      const o = parsed as Record<string, unknown>
      if (typeof o.code === 'string' || typeof o.message === 'string') {
        const body: ErrorBody = {
          code: typeof o.code === 'string' ? o.code : '',
          message: typeof o.message === 'string' ? o.message : '',
        }
        if (o.detail !== undefined) body.detail = o.detail
        return body
      }
    }
  } catch {
    // not JSON: fall through to the excerpt
  }
  const oneLine = text.replace(/\s+/g, ' ').trim()
  return {code: '', message: oneLine.length > EXCERPT_CHARS ? `${oneLine.slice(0, EXCERPT_CHARS)}…` : oneLine}
}

export function createApiError(init: {
  status: number
  bodyText: string
  requestId: string | undefined
  site: RequestSite
  attempts: number
}): ApiError {
  const body = parseErrorBody(init.bodyText)
  const args = {
    status: init.status,
    code: body.code,
    apiMessage: body.message,
    detail: body.detail,
    requestId: init.requestId,
    site: init.site,
    attempts: init.attempts,
  }
  return init.status === 429 ? new RateLimitError(args) : new ApiError(args)
}
