/**
 * Retry policy of the WeChat Pay client, as pure functions: which outcomes are retried, and after how long.
 *
 * Retried: 429 and 500/502/503/504 (reference §3: "请使用相同参数稍后重新调用", "稍后使用原参数重试"), 202 (reference §3
 * status table: accepted but not processed, "请使用原参数重复请求一遍") and connection failures. The delay is capped exponential backoff with full jitter, unless the server sent Retry-After, which wins.
 */

export interface RetryOptions {
  /** Attempts in all, the first included. */
  maxAttempts: number
  /** Backoff before retry n is uniform in [0, min(maxDelayMs, baseDelayMs * 2^(n-1))). */
  baseDelayMs: number
  maxDelayMs: number
  /** A Retry-After longer than this is not waited for: the error is returned instead of hanging a run. */
  maxRetryAfterMs: number
}

export const DEFAULT_RETRY_OPTIONS: RetryOptions = {
  maxAttempts: 5,
  baseDelayMs: 200,
  maxDelayMs: 10_000,
  maxRetryAfterMs: 60_000,
}

export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([202, 429, 500, 502, 503, 504])

/**
 * Answers that say the request was not processed, so that even a non-idempotent one is sent again: 429 "请求未受理"
 * and 202 "请使用原参数重复请求一遍" (reference §3).
 */
const NOT_PROCESSED_STATUSES: ReadonlySet<number> = new Set([202, 429])

/**
 * Methods whose repetition is harmless. PATCH is included because every PATCH of these APIs sets fields to given
 * values (no increments), so sending it twice leaves the card as sending it once. POST is not: a create is retried
 * only when the caller marks it idempotent, i.e. it carries out_request_no (the idempotency key, reference §3).
 */
export function isIdempotentMethod(method: string): boolean {
  return ['GET', 'HEAD', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'].includes(method.toUpperCase())
}

/** Full-jitter backoff (retry is 1 for the first retry). `random` returns [0, 1). */
export function backoffDelay(retry: number, options: RetryOptions, random: () => number): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.max(0, retry - 1))
  return Math.floor(random() * ceiling)
}

/**
 * Retry-After as milliseconds from now: delta-seconds or an HTTP date (RFC 9110 §10.2.3). A date in the past is 0;
 * anything unparseable is undefined (then the backoff applies).
 */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined
  const trimmed = value.trim()
  if (trimmed === '') return undefined
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000
  // A date must name a day; Date.parse alone would accept bare numbers like "1.5".
  if (!/[A-Za-z]{3}/.test(trimmed)) return undefined
  const at = Date.parse(trimmed)
  if (Number.isNaN(at)) return undefined
  return Math.max(0, at - nowMs)
}

/**
 * A connection-level failure. `sent` says whether the request may have reached the server: a refused or timed-out
 * connect never sent anything, so even a non-idempotent POST may be retried; a reset or a closed socket after
 * connecting may have delivered it.
 */
export interface TransportFailure {
  code: string
  reason: string
  sent: 'no' | 'maybe'
}

const NOT_SENT: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  UND_ERR_CONNECT_TIMEOUT: 'connect timed out',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
}

const MAYBE_SENT: Record<string, string> = {
  ECONNRESET: 'connection reset',
  EPIPE: 'connection closed while sending',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_SOCKET: 'socket closed',
  UND_ERR_CLOSED: 'connection closed',
  UND_ERR_HEADERS_TIMEOUT: 'timed out waiting for the response headers',
  UND_ERR_BODY_TIMEOUT: 'timed out reading the response body',
  // transport.ts: the whole attempt outlived responseTimeoutMs (a slowloris body); the message says how long.
  CARDFORM_RESPONSE_DEADLINE: 'response not complete in time',
}

/** Classify an error thrown by the HTTP layer; undefined when it is not a connection failure (a bug, say). */
export function classifyTransportError(error: unknown): TransportFailure | undefined {
  // undici wraps the socket's errno in `cause` for some failures; look at both levels.
  for (let e: unknown = error, depth = 0; e !== null && typeof e === 'object' && depth < 3; depth++) {
    const code = (e as {code?: unknown}).code
    if (typeof code === 'string') {
      const notSent = NOT_SENT[code]
      if (notSent !== undefined) return {code, reason: notSent, sent: 'no'}
      const maybe = MAYBE_SENT[code]
      if (maybe !== undefined) {
        const timeoutMs = (e as {timeoutMs?: unknown}).timeoutMs
        const reason = code === 'CARDFORM_RESPONSE_DEADLINE' && typeof timeoutMs === 'number' ? `response not complete within ${timeoutMs} ms` : maybe
        return {code, reason, sent: 'maybe'}
      }
    }
    e = (e as {cause?: unknown}).cause
  }
  return undefined
}

export type AttemptOutcome =
  | {kind: 'status'; status: number; retryAfterMs?: number | undefined}
  | {kind: 'transport'; failure: TransportFailure}

export type RetryDecision = {retry: false; reason: string} | {retry: true; delayMs: number; reason: string}

/**
 * Whether attempt `attempt` (1-based) is followed by another, and after how long.
 *
 * A non-idempotent request is retried only when it provably was not processed: the connection never opened, or the
 * server answered 429, which the API documents as "请求未受理" (request not accepted), or 202, "请使用原参数重复请求一遍"
 * (reference §3).
 */
export function decideRetry(input: {
  attempt: number
  outcome: AttemptOutcome
  idempotent: boolean
  options: RetryOptions
  random: () => number
}): RetryDecision {
  const {attempt, outcome, idempotent, options} = input
  const reason = outcome.kind === 'status' ? `status ${outcome.status}` : outcome.failure.code
  if (outcome.kind === 'status') {
    if (!RETRYABLE_STATUSES.has(outcome.status)) return {retry: false, reason: `${reason} is not retryable`}
    if (!idempotent && !NOT_PROCESSED_STATUSES.has(outcome.status)) return {retry: false, reason: `${reason} on a non-idempotent request`}
  } else if (!idempotent && outcome.failure.sent === 'maybe') {
    return {retry: false, reason: `${reason} after a non-idempotent request may have been sent`}
  }
  if (attempt >= options.maxAttempts) return {retry: false, reason: `${reason}, ${attempt} attempts made`}
  if (outcome.kind === 'status' && outcome.retryAfterMs !== undefined) {
    if (outcome.retryAfterMs > options.maxRetryAfterMs) {
      return {retry: false, reason: `${reason}, Retry-After ${outcome.retryAfterMs} ms exceeds the limit`}
    }
    return {retry: true, delayMs: outcome.retryAfterMs, reason: `${reason}, Retry-After`}
  }
  return {retry: true, delayMs: backoffDelay(attempt, options, input.random), reason}
}

/** What one attempt produced: a value, or a failure with the outcome that decides the retry and the error to throw. */
export type AttemptResult<T> = {ok: true; value: T} | {ok: false; outcome: AttemptOutcome; error: (attempts: number) => Error}

/**
 * Run attempts until one succeeds or the policy gives up; the only I/O here is the wait between attempts.
 * `onAttempt` sees every finished attempt with its decision (for the debug log).
 */
export async function runAttempts<T>(input: {
  idempotent: boolean
  options: RetryOptions
  random: () => number
  sleep: (ms: number) => Promise<void>
  attempt: (n: number) => Promise<AttemptResult<T>>
  onAttempt?: (n: number, result: AttemptResult<T>, decision: RetryDecision | undefined) => void
}): Promise<T> {
  for (let n = 1; ; n++) {
    const result = await input.attempt(n)
    if (result.ok) {
      input.onAttempt?.(n, result, undefined)
      return result.value
    }
    const decision = decideRetry({
      attempt: n,
      outcome: result.outcome,
      idempotent: input.idempotent,
      options: input.options,
      random: input.random,
    })
    input.onAttempt?.(n, result, decision)
    if (!decision.retry) throw result.error(n)
    await input.sleep(decision.delayMs)
  }
}
