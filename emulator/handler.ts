import type {CardRecord, CardStore, Family} from './store.js'
import type {Random} from './random.js'
import type {ReviewDelay} from './review.js'
import {ApiError, cardNotFound, invalidRequest} from './errors.js'
import type {UploadForm} from './media.js'

/** A verified /v3 request, as handlers see it. */
export interface ApiRequest {
  /** The merchant whose signature was verified. */
  mchid: string
  params: Record<string, string>
  query: URLSearchParams
  /** The parsed JSON body (already checked for null and 4-byte characters), undefined when empty. */
  body: unknown
  /** The parts of a multipart request (the image upload); `body` is then undefined. */
  form?: UploadForm
  /** Milliseconds, from the emulator's clock. */
  now: number
}

export interface ApiReply {
  status: number
  /** Undefined for 204. */
  body?: unknown
}

export interface HandlerEnv {
  store: CardStore
  random: Random
  /** How long a submitted membercard-open template stays NOT_APPROVE (review.ts). */
  reviewDelay: ReviewDelay
  /** The emulator's own URL, `http://host:port`: where it serves uploaded images. */
  baseUrl: string
}

export type Handler = (req: ApiRequest, env: HandlerEnv) => ApiReply

/** JSON with sorted keys: two bodies are "the same request" when they hold the same values, whatever the order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`
  }
  return JSON.stringify(value)
}

/**
 * The card addressed by the path, checked in the order the API must: it exists in this family (else 404), and the
 * caller created it (400 INVALID_REQUEST "会员卡的创建商户号不等于调用方商户号", reference §3 / seed 003 error table).
 */
export function findOwnCard(req: ApiRequest, env: HandlerEnv, family: Family): CardRecord {
  const cardId = req.params['card_id'] ?? ''
  const record = env.store.get(cardId)
  if (!record || record.family !== family) throw cardNotFound(cardId)
  if (record.owner_mchid !== req.mchid) throw invalidRequest('会员卡的创建商户号不等于调用方商户号')
  return record
}

/**
 * The idempotency rule of out_request_no (reference §3, inference): a retry with the same out_request_no and the same
 * body returns the card created first; the same out_request_no with another body is refused.
 */
export function findRetry(env: HandlerEnv, family: Family, mchid: string, body: Record<string, unknown>): CardRecord | undefined {
  const existing = env.store.byRequest(family, mchid, String(body['out_request_no']))
  if (!existing) return undefined
  if (existing.create_body !== canonicalJson(body)) {
    throw invalidRequest('商户请求单号out_request_no已使用,且本次请求参数与首次请求不一致')
  }
  return existing
}

/** Parse a non-negative integer query parameter; 400 PARAM_ERROR (location query) when it is not one. */
export function queryInt(query: URLSearchParams, name: string, fallback: number | undefined, min: number, max?: number): number {
  const raw = query.get(name)
  if (raw === null || raw === '') {
    if (fallback === undefined) {
      throw new ApiError(400, 'PARAM_ERROR', `输入源“/query/${name}”必填性规则校验失败,此字段为必填项`, {field: name, location: 'query'})
    }
    return fallback
  }
  const n = /^-?\d+$/.test(raw) ? Number(raw) : Number.NaN
  if (!Number.isInteger(n) || n < min || (max !== undefined && n > max)) {
    const range = max === undefined ? `不小于 ${min}` : `${min} 到 ${max}`
    throw new ApiError(400, 'PARAM_ERROR', `输入源“/query/${name}”数值规则校验失败,应为${range}的整数,实际为“${raw}”`, {
      field: name,
      location: 'query',
    })
  }
  return n
}

export function requiredQuery(query: URLSearchParams, name: string): string {
  const v = query.get(name)
  if (v === null || v === '') {
    throw new ApiError(400, 'PARAM_ERROR', `输入源“/query/${name}”必填性规则校验失败,此字段为必填项`, {field: name, location: 'query'})
  }
  return v
}

export function asObject(body: unknown): Record<string, unknown> {
  if (body === undefined) throw new ApiError(400, 'PARAM_ERROR', '请求报文主体为空,应为JSON对象', {field: '/', location: 'body'})
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ApiError(400, 'PARAM_ERROR', '请求报文主体应为JSON对象', {field: '/', location: 'body'})
  }
  return body as Record<string, unknown>
}
