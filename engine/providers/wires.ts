import {loadKindSemantics, type KindSemantics} from '../model/schema-semantics.js'
import type {KindWire} from '../plan/compute-plan.js'
import {assertNever} from '../model/plan.js'
import {getPath, isPlainObject} from '../diff/values.js'

/**
 * The wire mapping of each kind: how a spec becomes the bodies of its family's create and PATCH calls. The field
 * semantics come from the kind schema; only what the API itself requires of every request lives here.
 */
export function wireFor(sem: KindSemantics): KindWire {
  const lookup = (path: string) => sem.fields.get(path)
  // Top-level fields applied elsewhere (rights) or never sent (server-computed, managed).
  const excluded = (key: string) => {
    const s = sem.fields.get(key)
    return s?.endpoint !== undefined || s?.serverComputed === true || s?.managed === true
  }
  const patchOnly = [...sem.fields].filter(([, f]) => f.patchOnly).map(([p]) => p.split('.'))
  const pick = (spec: Record<string, unknown>, keys: Iterable<string>) => {
    const out: Record<string, unknown> = {}
    for (const k of keys) if (spec[k] !== undefined && !excluded(k)) out[k] = spec[k]
    return out
  }
  const patchOnlyKeys = (spec: Record<string, unknown>) => [
    ...new Set(patchOnly.filter((p) => getPath(spec, p) !== undefined).map((p) => p[0]!)),
  ]
  const oneWay = [...sem.fields].filter(([path, f]) => f.oneWay !== undefined && !path.includes('[]')).map(([path, f]) => ({path, on: f.oneWay!.on}))
  const reviewField = [...sem.fields].find(([path, f]) => f.review !== undefined && !path.includes('[]'))
  const review = reviewField ? {review: {path: reviewField[0], ...reviewField[1].review!}} : {}
  const common = {kind: sem.kind, family: sem.family, remove: sem.remove, createOnly: sem.createOnly, lookup, patchOnlyKeys, oneWay, ...review}
  const sendable = (spec: Record<string, unknown>) => pick(spec, Object.keys(spec))
  /** The create body: everything sendable except the fields only PATCH accepts (sent right after the create). */
  const creatable = (spec: Record<string, unknown>) => withoutPaths(sendable(spec), patchOnly)

  switch (sem.family) {
    case 'membercard-open':
      return {
        ...common,
        idempotentCreate: true,
        createBody: (spec, key) => ({...creatable(spec), out_request_no: key}),
        // The merchant PATCH page lists code_mode as required (reference §5), so every PATCH carries it.
        patchBody: (spec, keys) => pick(spec, [...keys, 'code_mode']),
        invalidateBody: () => ({}),
      }
    case 'brand-partner':
      return {
        ...common,
        idempotentCreate: true,
        createBody: (spec, key) => ({...creatable(spec), out_request_no: key}),
        // brand_id is required in every PATCH body as an ownership check (reference §5), never changed by it.
        patchBody: (spec, keys) => ({...pick(spec, keys), brand_id: spec.brand_id}),
        invalidateBody: (spec) => ({brand_id: spec.brand_id}),
      }
    case 'aggregator':
      return {
        ...common,
        // The aggregator's legacy API (seed 000) has no request number: a create whose answer was lost cannot be
        // repeated safely, so the plan refuses to resume one (see computePlan).
        idempotentCreate: false,
        createBody: (spec) => creatable(spec),
        patchBody: () => {
          throw new Error(`${sem.kind} cards cannot be modified`)
        },
        invalidateBody: () => ({}),
      }
    default:
      return assertNever(sem.family)
  }
}

let cached: Map<string, KindWire> | undefined

export function loadWires(): Map<string, KindWire> {
  cached ??= new Map(Object.values(loadKindSemantics()).map((s) => [s.kind, wireFor(s)]))
  return cached
}

/** Used by the brand family's GET, which needs the brand_id query parameter. */
export function brandIdOf(applied: Record<string, unknown>): string | undefined {
  if (typeof applied.brand_id === 'string') return applied.brand_id
  return isPlainObject(applied.brand) && typeof applied.brand.brand_id === 'string' ? applied.brand.brand_id : undefined
}

/** A copy of `obj` without the given nested paths (emptied parents are kept: they carry their other fields). */
function withoutPaths(obj: Record<string, unknown>, paths: ReadonlyArray<readonly string[]>): Record<string, unknown> {
  if (!paths.some((p) => getPath(obj, p) !== undefined)) return obj
  const out = structuredClone(obj)
  for (const p of paths) {
    const parent = getPath(out, p.slice(0, -1))
    if (isPlainObject(parent)) delete parent[p[p.length - 1]!]
  }
  return out
}
