import {invalidRequest} from './errors.js'
import {parseTime} from './time.js'

/**
 * Cross-field rules shared by both families, checked on the card as it would be after the request (create body, or
 * stored card merged with a PATCH).
 */

/** Seed 002 error table (brand); applied to membercard-open too, whose create page has the same field (inference). */
export function checkDisplayLevel(card: Record<string, unknown>): void {
  if (card['need_display_level'] === true && (typeof card['init_level'] !== 'string' || card['init_level'] === '')) {
    throw invalidRequest('need_display_level为true时,init_level不能为空')
  }
}

/**
 * Validity rules from the field descriptions (seed 002: available_begin_time/end_time are "type为FIX_TIME_RANGE时专用",
 * available_day_after_receive "type为FIX_TERM时专用"). The docs do not say what the API answers when they are missing:
 * the messages are invented. Fields for other types are accepted and kept (the seed 002 example sends all of them
 * with type PERMANENT).
 */
export function checkDateInformation(info: unknown, field: string, requireBegin = true): void {
  if (typeof info !== 'object' || info === null) return
  const d = info as Record<string, unknown>
  if (d['type'] === 'FIX_TIME_RANGE') {
    if (d['available_end_time'] === undefined) {
      throw invalidRequest(`${field}.type为FIX_TIME_RANGE时,available_end_time不能为空`)
    }
    if (requireBegin && d['available_begin_time'] === undefined) {
      throw invalidRequest(`${field}.type为FIX_TIME_RANGE时,available_begin_time不能为空`)
    }
    const begin = parseTime(String(d['available_begin_time']))
    const end = parseTime(String(d['available_end_time']))
    if (begin !== undefined && end !== undefined && begin >= end) {
      throw invalidRequest(`${field}.available_begin_time必须早于available_end_time`)
    }
  }
  if (d['type'] === 'FIX_TERM' && d['available_day_after_receive'] === undefined) {
    throw invalidRequest(`${field}.type为FIX_TERM时,available_day_after_receive不能为空`)
  }
}

/**
 * code_mode can never change away from SYSTEM_ALLOCATE nor to it (reference §3 business codes, seed 003 table;
 * the fix text: "会员卡code分配类型为“系统分配”,不支持修改"). Other changes (MERCHANT_DEPOSIT ↔ REAL_TIME) are allowed:
 * inference from the narrower wording of the two messages (reference §5).
 */
export function checkCodeModeChange(from: unknown, to: unknown): void {
  if (to === undefined || to === from) return
  if (from === 'SYSTEM_ALLOCATE') throw invalidRequest('会员卡code分配类型不支持修改')
  if (to === 'SYSTEM_ALLOCATE') throw invalidRequest('会员卡code分配类型不支持修改为“系统分配”')
}

/**
 * A field absent from the PATCH schema. Sending the stored value again is accepted (a client may send the whole
 * card); a different value is refused. Inference: the docs only say these fields are not in the PATCH body.
 */
export function checkImmutable(
  patch: Record<string, unknown>,
  card: Record<string, unknown>,
  fields: Record<string, string>,
  canonical: (v: unknown) => string,
): void {
  for (const [key, label] of Object.entries(fields)) {
    if (key in patch && canonical(patch[key]) !== canonical(card[key])) throw invalidRequest(`${label}(${key})不支持修改`)
  }
}
