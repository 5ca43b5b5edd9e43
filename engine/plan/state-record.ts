import type {ResourceState} from '../model/state.js'
import {getPath, isPlainObject, valuesEqual} from '../diff/values.js'
import type {SemanticsLookup} from '../diff/three-way.js'
import {inherits} from '../diff/three-way.js'

/**
 * What apply records about a card besides its id: the spec as applied (readable and write-only parts), the lifecycle
 * settings that must outlive the spec, and the one-way fields ever switched on. Plan and apply both compute it with
 * `nextRecord`, so a plan always shows what apply will write (a state write the plan did not show was a bug).
 */

/** metadata.lifecycle of a card document, with `${env:…}` strings already turned into booleans. */
export interface Lifecycle {
  prevent_destroy?: boolean
  destroy?: boolean
  ignore_changes?: string[]
}

/** The parts of a card document's metadata that plan and apply act on. */
export interface CardMetadata {
  import_id?: string
  moved_from?: string
  lifecycle?: Lifecycle
}

/** What a card wire needs to split a spec and find its one-way fields. */
export interface RecordWire {
  lookup: SemanticsLookup
  oneWay: ReadonlyArray<{path: string; on: unknown}>
}

/** `true`/`"true"` → true, `false`/`"false"` → false (the schema allows the strings so `${env:…}` can set them). */
function flag(value: unknown): boolean | undefined {
  if (value === true || value === 'true') return true
  if (value === false || value === 'false') return false
  return undefined
}

/** The metadata fields plan and apply use, from a document's raw `metadata` mapping. */
export function readMetadata(raw: Record<string, unknown> | undefined): CardMetadata {
  const out: CardMetadata = {}
  if (!raw) return out
  if (typeof raw.import_id === 'string') out.import_id = raw.import_id
  if (typeof raw.moved_from === 'string') out.moved_from = raw.moved_from
  if (isPlainObject(raw.lifecycle)) {
    const l = raw.lifecycle
    const lifecycle: Lifecycle = {}
    const prevent = flag(l.prevent_destroy)
    const destroy = flag(l.destroy)
    if (prevent !== undefined) lifecycle.prevent_destroy = prevent
    if (destroy !== undefined) lifecycle.destroy = destroy
    if (Array.isArray(l.ignore_changes) && l.ignore_changes.length > 0) lifecycle.ignore_changes = l.ignore_changes.filter((p): p is string => typeof p === 'string')
    if (Object.keys(lifecycle).length > 0) out.lifecycle = lifecycle
  }
  return out
}

/** True when `path` is one of `ignored` or lies under one of them. */
export function isIgnored(ignored: readonly string[] | undefined, path: string): boolean {
  if (!ignored) return false
  return ignored.some((i) => path === i || path.startsWith(`${i}.`) || path.startsWith(`${i}[`))
}

/** Split a spec into readable fields (what GET returns) and write-only ones (kept in state). */
export function splitWriteOnly(lookup: SemanticsLookup, spec: Record<string, unknown>) {
  const readable: Record<string, unknown> = {}
  const writeOnly: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(spec)) {
    if (inherits(lookup, k, 'writeOnly')) writeOnly[k] = v
    else readable[k] = v
  }
  return {readable, writeOnly}
}

/** Set (or, for undefined, remove) a dotted path in a plain object, creating parents as needed. */
export function setPath(obj: Record<string, unknown>, parts: readonly string[], value: unknown): void {
  let cur = obj
  for (const p of parts.slice(0, -1)) {
    if (!isPlainObject(cur[p])) {
      if (value === undefined) return
      cur[p] = {}
    }
    cur = cur[p] as Record<string, unknown>
  }
  const last = parts[parts.length - 1]!
  if (value === undefined) delete cur[last]
  else cur[last] = structuredClone(value)
}

/** The one-way fields switched on in any of `sources`, added to `known`. */
export function rememberOneWay(wire: RecordWire, known: Record<string, unknown> | undefined, ...sources: Array<Record<string, unknown> | undefined>): Record<string, unknown> {
  const out: Record<string, unknown> = {...(known ?? {})}
  for (const {path, on} of wire.oneWay) {
    if (path in out) continue
    if (sources.some((s) => s !== undefined && valuesEqual(getPath(s, path.split('.')), on))) out[path] = on
  }
  return out
}

export interface NextRecord {
  applied: Record<string, unknown>
  write_only: Record<string, unknown>
  one_way?: Record<string, unknown>
  lifecycle?: {prevent_destroy?: boolean; destroy?: boolean}
}

/**
 * What apply records once a card's change has been made. Fields under lifecycle.ignore_changes keep the value state
 * had for them (cardform neither diffs nor writes them after create); a new card records the spec's value.
 */
export function nextRecord(
  wire: RecordWire,
  spec: Record<string, unknown>,
  metadata: CardMetadata | undefined,
  prev: Pick<ResourceState, 'applied' | 'write_only' | 'one_way'> | undefined,
): NextRecord {
  const {readable, writeOnly} = splitWriteOnly(wire.lookup, structuredClone(spec))
  const ignored = metadata?.lifecycle?.ignore_changes ?? []
  if (prev) {
    for (const path of ignored) {
      const parts = path.split('.')
      const target = inherits(wire.lookup, parts[0]!, 'writeOnly') ? writeOnly : readable
      const source = target === writeOnly ? prev.write_only : prev.applied
      setPath(target, parts, getPath(source, parts))
    }
  }
  const out: NextRecord = {applied: readable, write_only: writeOnly}
  // A one-way field switched on stays on for ever. While the spec still sets it, applied/write_only say so; once the
  // spec stops setting it, the memory is all that is left, so it is written then (and kept).
  const still = rememberOneWay(wire, undefined, readable, writeOnly)
  const before = rememberOneWay(wire, prev?.one_way, prev?.applied, prev?.write_only)
  const oneWay = {...(prev?.one_way ?? {})}
  for (const [path, on] of Object.entries(before)) if (!(path in still)) oneWay[path] = on
  if (Object.keys(oneWay).length > 0) out.one_way = oneWay
  const l = metadata?.lifecycle
  if (l?.prevent_destroy !== undefined || l?.destroy !== undefined) {
    out.lifecycle = {...(l.prevent_destroy !== undefined ? {prevent_destroy: l.prevent_destroy} : {}), ...(l.destroy !== undefined ? {destroy: l.destroy} : {})}
  }
  return out
}

/**
 * The differences between what state records now and `next`, as lines for the plan (`total_quantity: no longer
 * managed (…)`, `rights.show_bonus: remembered as switched on (…)`, `lifecycle.prevent_destroy: recorded as true`).
 * Top-level keys the change's own API calls cover (`covered`) are left out: the field change already shows them.
 */
export function recordDifferences(prev: ResourceState, next: NextRecord, covered: ReadonlySet<string>): string[] {
  const out: string[] = []
  const before = {...prev.applied, ...prev.write_only}
  const after = {...next.applied, ...next.write_only}
  const paths: string[] = []
  for (const key of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) {
    if (covered.has(key) || valuesEqual(before[key], after[key])) continue
    leafDifferences(before[key], after[key], key, paths)
  }
  for (const path of paths) {
    const gone = getPath(after, path.split('.')) === undefined
    out.push(gone ? `${path}: no longer managed (the card keeps its value)` : `${path}: recorded as the spec sets it`)
  }
  for (const path of Object.keys(next.one_way ?? {}).sort()) {
    if (!(path in (prev.one_way ?? {})) && !covered.has(path.split('.')[0]!)) out.push(`${path}: remembered as switched on (it can never be switched off)`)
  }
  const pl = prev.lifecycle ?? {}
  const nl = next.lifecycle ?? {}
  for (const k of ['prevent_destroy', 'destroy'] as const) {
    if (pl[k] !== nl[k]) out.push(`lifecycle.${k}: ${nl[k] === undefined ? 'no longer recorded' : `recorded as ${nl[k]}`}`)
  }
  return out
}

function leafDifferences(a: unknown, b: unknown, path: string, out: string[]): void {
  if (isPlainObject(a) && isPlainObject(b)) {
    for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      if (!valuesEqual(a[k], b[k])) leafDifferences(a[k], b[k], `${path}.${k}`, out)
    }
    return
  }
  out.push(path)
}
