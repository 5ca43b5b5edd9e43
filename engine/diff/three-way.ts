import type {FieldChange} from '../model/plan.js'
import {getPath, isPlainObject, valuesEqual} from './values.js'
import {isUploadMarker} from '../model/image.js'

import type {FieldSemantics} from '../model/schema-semantics.js'

export type {FieldSemantics}

/** Semantics of the field at a dotted spec path (`balance_information.need_balance`), undefined when plain. */
export type SemanticsLookup = (path: string) => FieldSemantics | undefined

export interface ThreeWayInput {
  /** The spec as written (after interpolation). */
  desired: Record<string, unknown>
  /** What cardform applied last time, readable fields only; undefined for a card not yet created. */
  applied: Record<string, unknown> | undefined
  /** The write-only fields as last applied (`{rights: {...}}`). */
  writeOnly: Record<string, unknown>
  /** The live card from GET; undefined when not refreshed (the applied values stand in for it). */
  live: Record<string, unknown> | undefined
  lookup: SemanticsLookup
  /** lifecycle.ignore_changes: paths (and everything under them) neither diffed nor shown as drift. */
  ignore?: readonly string[]
  /**
   * One-way fields known to be switched on (state's memory, `{'rights.show_bonus': true}`), even where neither the
   * live card (GET cannot return the rights) nor the last-applied spec (the block was removed since) says so.
   */
  switchedOn?: Readonly<Record<string, unknown>>
}

export interface OneWayReversal {
  path: string
  before: unknown
  after: unknown
}

export interface ThreeWayResult {
  /** What apply must change: desired vs current, each tagged with whether config or drift caused it. */
  changes: FieldChange[]
  /** Live differs from last-applied (shown in the drift section even when the spec now agrees with live). */
  drift: FieldChange[]
  /** Managed leaves that stay as they are. */
  unchanged: number
  /** Fields cardform set last time that the spec no longer sets, and that the API cannot clear. */
  abandoned: string[]
  /** One-way fields the spec would switch off. */
  reversals: OneWayReversal[]
  /** Fields the spec stopped setting that go back to their server default (the PATCH must carry the default). */
  restored: Array<{path: string; value: unknown}>
}

/** True when `path` or one of its ancestors has the semantic `key`. */
export function inherits(lookup: SemanticsLookup, path: string, key: keyof FieldSemantics): boolean {
  const parts = path.split('.')
  for (let i = parts.length; i > 0; i--) {
    const s = lookup(parts.slice(0, i).join('.'))
    if (s && s[key] !== undefined) return true
  }
  return false
}

/**
 * Leaves of the union of two objects. Plain objects are descended into; arrays and scalars are leaves (a list is
 * sent whole by the API, so it is compared whole, and displayed by key when the schema names one). An upload marker
 * (a local image whose URL is known after apply) is a leaf too: it stands for one URL.
 */
function leafPaths(a: unknown, b: unknown, prefix: string[], out: string[][]): void {
  const keys = new Set<string>()
  if (isPlainObject(a)) for (const k of Object.keys(a)) keys.add(k)
  if (isPlainObject(b)) for (const k of Object.keys(b)) keys.add(k)
  const branch = (v: unknown) => isPlainObject(v) && !isUploadMarker(v)
  for (const key of [...keys].sort()) {
    const av = isPlainObject(a) ? a[key] : undefined
    const bv = isPlainObject(b) ? b[key] : undefined
    const path = [...prefix, key]
    if ((branch(av) || av === undefined) && (branch(bv) || bv === undefined) && (branch(av) || branch(bv))) {
      leafPaths(av, bv, path, out)
    } else {
      out.push(path)
    }
  }
}

function immutableChange(s: FieldSemantics | undefined, before: unknown, after: unknown): boolean {
  if (!s?.immutable) return false
  if (s.immutable === true) return true
  return s.immutable.when.some(
    (rule) => ('from' in rule && valuesEqual(rule.from, before)) || ('to' in rule && valuesEqual(rule.to, after)),
  )
}

/** Immutability may be declared on an ancestor (the whole `brand` object). */
function forcesReplacement(lookup: SemanticsLookup, path: string, before: unknown, after: unknown): boolean {
  const parts = path.split('.')
  for (let i = parts.length; i > 0; i--) {
    if (immutableChange(lookup(parts.slice(0, i).join('.')), before, after)) return true
  }
  return false
}

export function diffThreeWay(input: ThreeWayInput): ThreeWayResult {
  const {desired, lookup} = input
  const applied = {...(input.applied ?? {}), ...input.writeOnly}
  const result: ThreeWayResult = {changes: [], drift: [], unchanged: 0, abandoned: [], reversals: [], restored: []}
  const paths: string[][] = []
  leafPaths(desired, applied, [], paths)

  for (const parts of paths) {
    const path = parts.join('.')
    if (inherits(lookup, path, 'serverComputed') || inherits(lookup, path, 'managed')) continue
    if (input.ignore && input.ignore.some((i) => path === i || path.startsWith(`${i}.`))) continue
    const s = lookup(path)
    const writeOnly = inherits(lookup, path, 'writeOnly')
    const d = getPath(desired, parts)
    const a = getPath(applied, parts)
    const l = writeOnly || input.live === undefined ? a : getPath(input.live, parts)
    const longText = s?.longText ? ({long_text: true} as const) : {}
    const wo = writeOnly ? ({write_only: true} as const) : {}

    // Drift: the live value moved away from what cardform applied (only readable fields can drift).
    if (!writeOnly && input.live !== undefined && a !== undefined && !valuesEqual(a, l)) {
      result.drift.push(...byListKey({path, ...present('before', a), ...present('after', l), source: 'drift', ...longText}, s?.listKey))
    }

    let target: unknown
    if (d !== undefined) {
      target = d
    } else if (a !== undefined) {
      // The spec stopped setting a field cardform set last time: return it to the server's default when the
      // schema names one; otherwise the API has no way to clear it, so it stays and cardform stops managing it.
      if (s?.serverDefault === undefined) {
        result.abandoned.push(path)
        continue
      }
      target = s.serverDefault
    } else {
      continue // never set by cardform: someone else's field, or a server default
    }

    if (valuesEqual(target, l) || (l === undefined && s?.serverDefault !== undefined && valuesEqual(target, s.serverDefault))) {
      result.unchanged++
      continue
    }
    const change: FieldChange = {
      path,
      ...present('before', l),
      ...present('after', d === undefined ? target : d),
      source: input.applied !== undefined && valuesEqual(d, a) ? 'drift' : 'config',
      ...longText,
      ...wo,
    }
    if (input.applied !== undefined && forcesReplacement(lookup, path, l, target)) change.forces_replacement = true
    if (s?.oneWay) {
      const on = s.oneWay.on
      const isOn = valuesEqual(l, on) || (input.switchedOn !== undefined && path in input.switchedOn)
      if (isOn && !valuesEqual(target, on)) {
        result.reversals.push({path, before: on, after: target})
        continue
      }
      if (valuesEqual(target, on)) change.irreversible = true
    }
    result.changes.push(...byListKey(change, s?.listKey))
    if (d === undefined) result.restored.push({path, value: target})
  }
  return result
}

/**
 * A change of a list whose items have a key (`x-cardform-list-key`) becomes one change per item, addressed by key
 * (`custom_field_list[name=喜欢的运动]`), as structured-merge-diff does, so a reviewer sees which item was added,
 * removed or changed rather than two whole lists. The API still receives the whole list. A list whose items only moved,
 * or whose items lack the key, stays one change.
 */
function byListKey(change: FieldChange, key: string | undefined): FieldChange[] {
  const keyed = (v: unknown): Map<string, Record<string, unknown>> | undefined => {
    if (v === undefined) return new Map()
    if (!Array.isArray(v)) return undefined
    const m = new Map<string, Record<string, unknown>>()
    for (const item of v) {
      if (!isPlainObject(item) || typeof item[key!] !== 'string' || m.has(item[key!] as string)) return undefined
      m.set(item[key!] as string, item)
    }
    return m
  }
  if (!key) return [change]
  const before = keyed(change.before)
  const after = keyed(change.after)
  if (!before || !after) return [change]
  const {path, before: _b, after: _a, ...flags} = change
  const out: FieldChange[] = []
  for (const k of new Set([...before.keys(), ...after.keys()])) {
    const b = before.get(k)
    const a = after.get(k)
    if (valuesEqual(a, b)) continue
    out.push({path: `${path}[${key}=${k}]`, ...present('before', b), ...present('after', a), ...flags})
  }
  return out.length > 0 ? out : [change]
}

function present<K extends string>(key: K, value: unknown): {[P in K]?: unknown} {
  return value === undefined ? {} : ({[key]: value} as {[P in K]: unknown})
}
