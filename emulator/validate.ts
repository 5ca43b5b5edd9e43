import {ApiError} from './errors.js'
import {parseTime} from './time.js'

/**
 * A small table-driven validator for request bodies. Field tables (membercard-open.ts, brand.ts, aggregator.ts)
 * transcribe the reference (§5) and the openapi fragments: types, required sets, lengths, enums, patterns.
 * It stops at the first problem, as the real API answers one error at a time.
 *
 * Lengths count characters (code points), not bytes: the docs state limits like "string(10)" next to "支持最长10个中文字".
 *
 * Messages (invented wording, modelled on the real APIv3 validator's "输入源“/body/x”映射到值字段“y”…" answers seen in
 * public error reports; the reference gives only "参数错误"): see EMULATOR.md "Validation messages".
 */
export type Rule =
  | {kind: 'string'; label: string; max?: number; enum?: readonly string[]; pattern?: RegExp; patternHint?: string; format?: 'rfc3339'}
  | {kind: 'integer'; label: string; min?: number; max?: number}
  | {kind: 'boolean'; label: string}
  | {kind: 'object'; label: string; fields: Record<string, Rule>; required?: readonly string[]}
  | {kind: 'array'; label: string; items: Rule; maxItems?: number}
  /** Any JSON value (the aggregator's `json:` fields: an object or its JSON text). */
  | {kind: 'any'; label: string}

export const str = (label: string, max?: number, extra: Partial<Extract<Rule, {kind: 'string'}>> = {}): Rule => ({
  kind: 'string',
  label,
  ...(max === undefined ? {} : {max}),
  ...extra,
})
export const enumOf = (label: string, values: readonly string[]): Rule => ({kind: 'string', label, enum: values})
export const int = (label: string, min?: number, max?: number): Rule => ({
  kind: 'integer',
  label,
  ...(min === undefined ? {} : {min}),
  ...(max === undefined ? {} : {max}),
})
export const bool = (label: string): Rule => ({kind: 'boolean', label})
export const obj = (label: string, fields: Record<string, Rule>, required: readonly string[] = []): Rule => ({
  kind: 'object',
  label,
  fields,
  required,
})
export const arr = (label: string, items: Rule, maxItems?: number): Rule => ({
  kind: 'array',
  label,
  items,
  ...(maxItems === undefined ? {} : {maxItems}),
})

function fail(path: string, label: string, rule: string, issue: string): ApiError {
  return new ApiError(400, 'PARAM_ERROR', `输入源“${path}”映射到值字段“${label}”${rule}规则校验失败,${issue}`, {
    field: path.replace(/^\/body/, ''),
    location: 'body',
    issue,
  })
}

const typeName = (v: unknown) => (Array.isArray(v) ? 'array' : typeof v)

/** Throw the first violation of `rule` by `value`, found at `path` (e.g. `/body/date_information/type`). */
export function validate(value: unknown, rule: Rule, path = '/body'): void {
  switch (rule.kind) {
    case 'string': {
      if (typeof value !== 'string') throw fail(path, rule.label, '类型', `应为 string,实际为 ${typeName(value)}`)
      const n = [...value].length
      if (rule.max !== undefined && n > rule.max) throw fail(path, rule.label, '字符串', `字符数 ${n},大于最大值 ${rule.max}`)
      if (rule.enum && !rule.enum.includes(value)) {
        throw fail(path, rule.label, '枚举', `值“${value}”不在可选值 ${rule.enum.join('|')} 中`)
      }
      if (rule.pattern && !rule.pattern.test(value)) {
        throw fail(path, rule.label, '格式', rule.patternHint ?? `值“${value}”格式不正确`)
      }
      if (rule.format === 'rfc3339' && parseTime(value) === undefined) {
        throw fail(path, rule.label, '格式', `值“${value}”不是 RFC 3339 时间,例如 2015-05-20T13:29:35+08:00`)
      }
      return
    }
    case 'integer': {
      if (typeof value !== 'number' || !Number.isInteger(value)) {
        throw fail(path, rule.label, '类型', `应为 integer,实际为 ${JSON.stringify(value)}`)
      }
      if (rule.min !== undefined && value < rule.min) throw fail(path, rule.label, '数值', `${value} 小于最小值 ${rule.min}`)
      if (rule.max !== undefined && value > rule.max) throw fail(path, rule.label, '数值', `${value} 大于最大值 ${rule.max}`)
      return
    }
    case 'boolean':
      if (typeof value !== 'boolean') throw fail(path, rule.label, '类型', `应为 boolean,实际为 ${typeName(value)}`)
      return
    case 'object': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        throw fail(path, rule.label, '类型', `应为 object,实际为 ${typeName(value)}`)
      }
      const record = value as Record<string, unknown>
      for (const key of rule.required ?? []) {
        if (!(key in record)) {
          const label = rule.fields[key]?.label ?? key
          throw fail(`${path}/${key}`, label, '必填性', '此字段为必填项')
        }
      }
      for (const [key, v] of Object.entries(record)) {
        const sub = rule.fields[key]
        // Strict on purpose (invented): an unknown field is a client bug the real API would silently drop.
        if (!sub) throw fail(`${path}/${key}`, key, '字段', '不是可识别的字段')
        validate(v, sub, `${path}/${key}`)
      }
      return
    }
    case 'array': {
      if (!Array.isArray(value)) throw fail(path, rule.label, '类型', `应为 array,实际为 ${typeName(value)}`)
      if (rule.maxItems !== undefined && value.length > rule.maxItems) {
        throw fail(path, rule.label, '数组', `元素个数 ${value.length},大于最大值 ${rule.maxItems}`)
      }
      value.forEach((item, i) => validate(item, rule.items, `${path}/${i}`))
      return
    }
    case 'any':
      return
  }
}

/**
 * The general rules of APIv3 (reference §5 "General rules", basic-rules.html): no JSON null anywhere, and only
 * 1–3-byte UTF-8 characters (no emoji). Both answered 400 PARAM_ERROR (messages invented).
 */
export function checkGeneralRules(value: unknown, path = '/body'): void {
  if (value === null) {
    throw new ApiError(400, 'PARAM_ERROR', `输入源“${path}”的值为null,请求报文不支持JSON null`, {
      field: path.replace(/^\/body/, ''),
      location: 'body',
    })
  }
  if (typeof value === 'string') {
    if (/[\uD800-\uDFFF]/.test(value)) {
      throw new ApiError(400, 'PARAM_ERROR', `输入源“${path}”包含4字节UTF-8字符(如emoji),仅支持1至3字节的UTF-8字符`, {
        field: path.replace(/^\/body/, ''),
        location: 'body',
      })
    }
    return
  }
  if (Array.isArray(value)) {
    value.forEach((v, i) => checkGeneralRules(v, `${path}/${i}`))
    return
  }
  if (typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      checkGeneralRules(k, `${path}/${k}`)
      checkGeneralRules(v, `${path}/${k}`)
    }
  }
}
