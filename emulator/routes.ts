import type {Handler} from './handler.js'
import {createMembercard, deleteMembercard, getMembercard, listMembercards, patchMembercard, setMembercardRights} from './membercard-open.js'
import {createBrandCard, deleteBrandCard, getBrandCard, invalidateBrandCard, listBrandCards, patchBrandCard} from './brand.js'
import {MEDIA_UPLOAD_PATH, UPLOADS_PER_MINUTE, uploadImage} from './media.js'

/** The emulated /v3 endpoints (reference §1a, §1b). `name` is the route key used in stats. */
export interface Route {
  method: string
  name: string
  pattern: RegExp
  handler: Handler
  /** Whether the route changes state (a dropped connection then happens after the change). */
  mutates: boolean
  /** `json` (the default) or `multipart`: the image upload, whose signature covers its meta part only. */
  body: 'json' | 'multipart'
  /** A documented limit of this route per merchant and minute, on top of the rateLimitQps knob. */
  perMinute?: number
}

const MCO = '/v3/marketing/membercard-open/cards'
const BRAND = '/v3/brand/partner/card-member/cards'
const ID = '([A-Za-z0-9_-]{1,64})'

function route(method: string, path: string, handler: Handler, extra: Partial<Pick<Route, 'body' | 'perMinute'>> = {}): Route {
  const pattern = new RegExp(`^${path.replace('{card_id}', ID)}$`)
  return {method, name: `${method} ${path}`, pattern, handler, mutates: method !== 'GET', body: 'json', ...extra}
}

export const ROUTES: readonly Route[] = [
  route('POST', MCO, createMembercard),
  route('GET', MCO, listMembercards),
  route('GET', `${MCO}/{card_id}`, getMembercard),
  route('PATCH', `${MCO}/{card_id}`, patchMembercard),
  route('DELETE', `${MCO}/{card_id}`, deleteMembercard),
  route('PATCH', `${MCO}/{card_id}/rights`, setMembercardRights),
  route('POST', BRAND, createBrandCard),
  route('GET', BRAND, listBrandCards),
  route('GET', `${BRAND}/{card_id}`, getBrandCard),
  route('PATCH', `${BRAND}/{card_id}`, patchBrandCard),
  route('DELETE', `${BRAND}/{card_id}`, deleteBrandCard),
  route('POST', `${BRAND}/{card_id}/invalidate`, invalidateBrandCard),
  route('POST', MEDIA_UPLOAD_PATH, uploadImage, {body: 'multipart', perMinute: UPLOADS_PER_MINUTE}),
]

export type RouteMatch = {route: Route; params: Record<string, string>} | {allowed: string[]} | undefined

/** The route for `method pathname`; `{allowed}` when the path exists under other methods (405). */
export function matchRoute(method: string, pathname: string): RouteMatch {
  const allowed: string[] = []
  for (const r of ROUTES) {
    const m = r.pattern.exec(pathname)
    if (!m) continue
    if (r.method === method) return {route: r, params: m[1] === undefined ? {} : {card_id: m[1]}}
    allowed.push(r.method)
  }
  return allowed.length > 0 ? {allowed} : undefined
}
