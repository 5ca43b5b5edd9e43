import {formatAttemptLine, loggerFromEnv, packageVersion, type Logger} from './client.js'
import {AggregatorError, TransportError, UnexpectedResponseError} from './errors.js'
import {realSleep, type Sleep} from './rate-limiter.js'
import {headerValue} from './response-verification.js'
import {
  DEFAULT_RETRY_OPTIONS,
  classifyTransportError,
  parseRetryAfter,
  runAttempts,
  type AttemptResult,
  type RetryDecision,
  type RetryOptions,
} from './retry.js'
import {DEFAULT_TRANSPORT_OPTIONS, HttpTransport, type RawResponse, type TransportOptions} from './transport.js'

/**
 * The aggregator's legacy create endpoint (seed 000): POST /api/customer/user/userCreateMemberCard on its own base
 * URL. It is NOT WeChat Pay APIv3: requests are not signed and responses carry no signature to verify. The seed
 * names no authentication; we send `Authorization: Bearer <token>` from the configuration (an invention, shared with
 * the emulator).
 */

export const AGGREGATOR_CREATE_PATH = '/api/customer/user/userCreateMemberCard'

export interface AggregatorClientOptions {
  endpoint: string
  token: string
  retry?: Partial<RetryOptions>
  transport?: Partial<TransportOptions>
  logger?: Logger
  sleep?: Sleep
  random?: () => number
  clock?: () => number
}

export interface AggregatorCreateResult {
  card_id: string
  /** The whole envelope `{status, message, data}`, as received. */
  envelope: Record<string, unknown>
}

/**
 * Read the seed's envelope `{status, message, data: {errcode, errmsg, card_id}}`. The seed prints `data` as a
 * malformed array (`[ "errcode":0, … ]`); a one-element array holding the object is accepted too. Success needs
 * status 1 and errcode 0 (when present); anything else is the aggregator's error with those codes.
 */
export function readAggregatorEnvelope(
  httpStatus: number,
  text: string,
  site: {method: string; path: string},
): AggregatorCreateResult {
  let envelope: unknown
  try {
    envelope = JSON.parse(text)
  } catch {
    if (httpStatus < 200 || httpStatus >= 300) {
      throw new AggregatorError({httpStatus, status: undefined, errcode: undefined, errmsg: excerpt(text), site})
    }
    throw new UnexpectedResponseError({reason: 'aggregator response is not JSON', site, status: httpStatus, requestId: undefined})
  }
  if (envelope === null || typeof envelope !== 'object' || Array.isArray(envelope)) {
    throw new UnexpectedResponseError({reason: 'aggregator response is not an object', site, status: httpStatus, requestId: undefined})
  }
  const e = envelope as Record<string, unknown>
  let data = e.data
  if (Array.isArray(data) && data.length === 1) data = data[0]
  const d = data !== null && typeof data === 'object' && !Array.isArray(data) ? (data as Record<string, unknown>) : {}
  const status = typeof e.status === 'number' ? e.status : undefined
  const errcode = typeof d.errcode === 'number' ? d.errcode : undefined
  const ok = httpStatus >= 200 && httpStatus < 300 && status === 1 && (errcode === undefined || errcode === 0)
  if (!ok) {
    const errmsg = [d.errmsg, e.message].find((m): m is string => typeof m === 'string' && m !== '' && m !== 'ok') ?? ''
    throw new AggregatorError({httpStatus, status, errcode, errmsg, site})
  }
  if (typeof d.card_id !== 'string' || d.card_id === '') {
    throw new UnexpectedResponseError({reason: 'aggregator response has no data.card_id', site, status: httpStatus, requestId: undefined})
  }
  return {card_id: d.card_id, envelope: e}
}

export class AggregatorClient {
  private readonly transport: HttpTransport
  private readonly token: string
  private readonly retry: RetryOptions
  private readonly logger: Logger | undefined
  private readonly sleep: Sleep
  private readonly random: () => number
  private readonly clock: () => number

  constructor(options: AggregatorClientOptions) {
    if (options.token.trim() === '') throw new TypeError('the aggregator token must not be empty')
    this.transport = new HttpTransport(options.endpoint, {...DEFAULT_TRANSPORT_OPTIONS, ...options.transport})
    this.token = options.token
    this.retry = {...DEFAULT_RETRY_OPTIONS, ...options.retry}
    this.logger = options.logger ?? loggerFromEnv()
    this.sleep = options.sleep ?? realSleep
    this.random = options.random ?? Math.random
    this.clock = options.clock ?? Date.now
  }

  /**
   * Create a card. The body has no idempotency key, so the call is retried only when it provably did not reach the
   * aggregator (connection refused) or was refused with 429; a lost response is reported, never repeated.
   */
  async createMemberCard(body: Record<string, unknown>): Promise<AggregatorCreateResult> {
    const method = 'POST'
    const url = `${this.transport.basePath}${AGGREGATOR_CREATE_PATH}`
    const site = {method, path: AGGREGATOR_CREATE_PATH}
    const bytes = Buffer.from(JSON.stringify(body), 'utf8')
    const headers = {
      authorization: `Bearer ${this.token}`,
      accept: 'application/json',
      'content-type': 'application/json',
      'user-agent': `cardform/${packageVersion()}`,
    }
    let last = {result: '-', durationMs: 0}
    const log = (n: number, decision: RetryDecision | undefined): void => {
      this.logger?.(
        formatAttemptLine({system: 'aggregator', method, url, ...last, requestId: undefined, attempt: n, maxAttempts: this.retry.maxAttempts, decision}),
      )
    }
    const attempt = async (n: number): Promise<AttemptResult<AggregatorCreateResult>> => {
      const started = performance.now()
      let raw: RawResponse
      try {
        raw = await this.transport.send({method, url, headers, body: bytes})
      } catch (error) {
        const failure = classifyTransportError(error)
        if (failure === undefined) throw error
        last = {result: failure.code, durationMs: performance.now() - started}
        return {
          ok: false,
          outcome: {kind: 'transport', failure},
          error: (attempts) => new TransportError({code: failure.code, reason: failure.reason, site, attempts, cause: error}),
        }
      }
      last = {result: String(raw.status), durationMs: performance.now() - started}
      if (raw.status === 429 || raw.status >= 500) {
        return {
          ok: false,
          outcome: {kind: 'status', status: raw.status, retryAfterMs: parseRetryAfter(headerValue(raw.headers, 'retry-after'), this.clock())},
          error: () => errorFor(raw, site),
        }
      }
      try {
        return {ok: true, value: readAggregatorEnvelope(raw.status, raw.text, site)}
      } catch (error) {
        log(n, undefined)
        throw error
      }
    }
    return runAttempts({
      idempotent: false,
      options: this.retry,
      random: this.random,
      sleep: this.sleep,
      attempt,
      onAttempt: (n, _r, decision) => log(n, decision),
    })
  }

  async close(): Promise<void> {
    await this.transport.close()
  }
}

function errorFor(raw: RawResponse, site: {method: string; path: string}): Error {
  try {
    readAggregatorEnvelope(raw.status, raw.text, site)
  } catch (e) {
    return e as Error
  }
  return new AggregatorError({httpStatus: raw.status, status: undefined, errcode: undefined, errmsg: '', site})
}

function excerpt(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim()
  return oneLine.length > 200 ? `${oneLine.slice(0, 200)}…` : oneLine
}
