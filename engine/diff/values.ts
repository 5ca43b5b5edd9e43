import {createHash} from 'node:crypto'

/** JSON values as they come from YAML specs, state and API responses. */
export type Json = null | boolean | number | string | Json[] | {[key: string]: Json}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** JSON with object keys sorted at every level: the same value always gives the same text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value))
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys)
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(value).sort()) {
      if (value[key] !== undefined) out[key] = sortKeys(value[key])
    }
    return out
  }
  return value
}

export function fingerprint(value: unknown): string {
  return 'sha256:' + createHash('sha256').update(canonicalJson(value)).digest('hex')
}

// RFC 3339 date-time, as the API writes it (`2020-05-20T13:29:35.120+08:00`) or a person does (`...35+08:00`).
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/

/**
 * Deep equality for diffing. Two RFC 3339 strings naming the same instant are equal: the API answers with
 * milliseconds and its own offset, and that must never show as a change.
 */
export function valuesEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (typeof a === 'string' && typeof b === 'string') {
    return RFC3339.test(a) && RFC3339.test(b) && Date.parse(a) === Date.parse(b)
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, i) => valuesEqual(item, b[i]))
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)])
    for (const key of keys) {
      if (!valuesEqual(a[key], b[key])) return false
    }
    return true
  }
  return false
}

/** Read a dotted path (`date_information.type`) from an object; undefined when any step is missing. */
export function getPath(obj: unknown, path: readonly string[]): unknown {
  let cur: unknown = obj
  for (const key of path) {
    if (!isPlainObject(cur)) return undefined
    cur = cur[key]
  }
  return cur
}

export function deepClone<T>(value: T): T {
  return structuredClone(value)
}
