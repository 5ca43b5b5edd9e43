import type {Address} from '../model/address.js'
import type {Drift} from '../model/plan.js'
import type {StateDocument} from '../model/state.js'
import {getPath, isPlainObject, valuesEqual} from '../diff/values.js'
import type {KindWire, LiveRead} from '../plan/compute-plan.js'

export interface AcceptedDrift {
  /** Cards whose state now records their live values. */
  modified: Address[]
  /** Cards deleted outside cardform, removed from state. */
  removed: Address[]
}

/**
 * Accept drift into state (apply --refresh-only): make no API call, and record what the live cards hold now, so that
 * the next plan compares the specs with reality and shows any difference as a change in config.
 *
 * For a modified card, each drifted field of `applied` takes the live value (removed when the live card no longer has
 * it); a keyed list's drift is split per item (`custom_field_list[name=x]`), but the list is one value to the API, so
 * the whole list is taken from the live card. The card's live_fingerprint becomes the live one. A card deleted outside
 * cardform leaves state; its generation stays, so a card created again at that address gets a new out_request_no.
 *
 * `live` must hold the reads the drift was computed from (or reads with the same fingerprints). Mutates `doc`.
 */
export function acceptDrift(
  doc: StateDocument,
  drift: readonly Drift[],
  live: ReadonlyMap<Address, LiveRead>,
  wires: ReadonlyMap<string, KindWire>,
  now: string,
): AcceptedDrift {
  const out: AcceptedDrift = {modified: [], removed: []}
  for (const d of drift) {
    const r = doc.resources[d.address]
    if (!r || r.status !== 'created' || r.remote_id !== d.remote_id) continue
    const read = live.get(d.address)
    if (d.type === 'deleted') {
      if (read?.status !== 'gone') continue
      delete doc.resources[d.address]
      out.removed.push(d.address)
      continue
    }
    if (read?.status !== 'found') continue
    const lookup = wires.get(r.kind)?.lookup
    const applied = structuredClone(r.applied)
    for (const path of new Set(d.field_changes.map((fc) => fieldOf(fc.path)))) {
      const parts = path.split('.')
      const value = getPath(read.object, parts)
      setPath(applied, parts, value)
      // A one-way switch seen on stays remembered (state.one_way): the API never allows switching it off again.
      const on = lookup?.(path)?.oneWay?.on
      if (on !== undefined && valuesEqual(value, on)) r.one_way = {...r.one_way, [path]: on}
    }
    r.applied = applied
    r.live_fingerprint = read.fingerprint
    r.updated_at = now
    out.modified.push(d.address)
  }
  return out
}

/** The field a drift path belongs to: `a.list[name=x]` → `a.list`. */
function fieldOf(path: string): string {
  const bracket = path.indexOf('[')
  return bracket < 0 ? path : path.slice(0, bracket)
}

/** Set (or, for undefined, remove) a dotted path, dropping objects the removal leaves empty. */
function setPath(obj: Record<string, unknown>, parts: readonly string[], value: unknown): void {
  const [head, ...rest] = parts
  if (head === undefined) return
  if (rest.length === 0) {
    if (value === undefined) delete obj[head]
    else obj[head] = structuredClone(value)
    return
  }
  if (!isPlainObject(obj[head])) {
    if (value === undefined) return
    obj[head] = {}
  }
  const child = obj[head] as Record<string, unknown>
  setPath(child, rest, value)
  if (Object.keys(child).length === 0) delete obj[head]
}
