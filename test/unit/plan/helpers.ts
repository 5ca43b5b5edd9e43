import {readFileSync} from 'node:fs'
import path from 'node:path'
import {parseAllDocuments} from 'yaml'
import {formatAddress} from '../../../engine/model/address.js'
import {isImageFileRef} from '../../../engine/model/image.js'
import type {StateDocument} from '../../../engine/model/state.js'
import {emptyState} from '../../../engine/model/state.js'
import {computePlan, splitWriteOnly, type DesiredCard, type LiveRead} from '../../../engine/plan/compute-plan.js'
import {loadWires} from '../../../engine/providers/wires.js'
import {fingerprint} from '../../../engine/diff/values.js'
import {packageRoot} from '../../../engine/paths.js'

export const wires = loadWires()

/**
 * The URLs the quickstart's local images stand for in unit tests (as if uploaded there), so plans computed from the
 * example cards deal in URLs; tests/unit/plan/images.test.ts covers file references.
 */
export const EXAMPLE_IMAGE_URLS: Readonly<Record<string, string>> = {
  'assets/coffee-logo.png': 'https://wxpaylogo.qpic.cn/wxpaylogo/PiajxSqBRaEIPAeia7ImvtsqfqRBV8yFgM7ciaVz0ehkJL9JTHxG9rg/0',
  'assets/coffee-background.png': 'https://wxpaylogo.qpic.cn/wxpaylogo/PiajxSqBRaEIPAeia7Imvtsn7sYGNcEj33YzVvJF88ECQ19/0',
  'assets/fitness-card.png': 'https://wxpaylogo.qpic.cn/wxpaylogo/PiajxSqBRaEIPAeia7ImvtsuT5eXh2gQm8fKc0rNw7pL/0',
}

function withExampleUrls(value: unknown): unknown {
  if (isImageFileRef(value)) {
    const url = EXAMPLE_IMAGE_URLS[value.file]
    if (!url) throw new Error(`no example URL for ${value.file}`)
    return url
  }
  if (Array.isArray(value)) return value.map(withExampleUrls)
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withExampleUrls(v)]))
  return value
}

/** The quickstart example cards, parsed straight from YAML (the loader has its own tests), local images as URLs. */
export function exampleCards(): DesiredCard[] {
  const dir = path.join(packageRoot, 'examples/quickstart/cards')
  const out: DesiredCard[] = []
  for (const file of ['bookstore-reader.yaml', 'brand-cards.yaml', 'coffee-member.yaml']) {
    for (const doc of parseAllDocuments(readFileSync(path.join(dir, file), 'utf8'))) {
      const d = doc.toJS() as {kind: string; metadata: {name: string}; spec: Record<string, unknown>}
      out.push({address: formatAddress(d.kind, d.metadata.name), kind: d.kind, name: d.metadata.name, spec: withExampleUrls(d.spec) as Record<string, unknown>})
    }
  }
  return out
}

export function card(cards: DesiredCard[], name: string): DesiredCard {
  const c = cards.find((x) => x.name === name)
  if (!c) throw new Error(`no example card ${name}`)
  return c
}

/** A state in which every card was applied exactly as given, with ids `id-<name>`. */
export function appliedState(cards: DesiredCard[]): StateDocument {
  const state = emptyState('lineage-test', '0.0.0')
  state.serial = 3
  for (const c of cards) {
    const {readable, writeOnly} = splitWriteOnly(wires.get(c.kind)!.lookup, c.spec)
    state.resources[c.address] = {
      kind: c.kind,
      name: c.name,
      status: 'created',
      remote_id: `id-${c.name}`,
      out_request_no: `cf-${c.name}`,
      generation: 1,
      applied: readable,
      write_only: writeOnly,
      updated_at: '2026-01-01T00:00:00Z',
    }
    state.generations[c.address] = 1
  }
  return state
}

/** What GET would return for a card applied as in `appliedState`: readable fields plus server-computed ones. */
export function liveOf(c: DesiredCard, edit?: (o: Record<string, unknown>) => void): LiveRead {
  const {readable} = splitWriteOnly(wires.get(c.kind)!.lookup, structuredClone(c.spec))
  const object: Record<string, unknown> = {
    ...readable,
    card_id: `id-${c.name}`,
    create_time: '2026-01-01T08:00:00.000+08:00',
    update_time: '2026-01-01T08:00:00.000+08:00',
  }
  if (c.kind === 'MemberCard') {
    object.status = 'APPROVED'
    object.total_quantity ??= 5000000
  }
  if (c.kind === 'BrandMemberCard') object.state = 'CARD_EFFECTIVE'
  edit?.(object)
  return {status: 'found', object, fingerprint: fingerprint(object)}
}

export function plan(desired: DesiredCard[], state: StateDocument | null, live: Map<string, LiveRead> = new Map()) {
  return computePlan({
    desired,
    state,
    lineage: state?.lineage ?? 'lineage-new',
    live,
    refreshed: live.size > 0,
    wires,
    version: '0.0.0',
    now: '2026-11-23T00:00:00.000Z',
  })
}

export function withSpec(c: DesiredCard, edit: (spec: Record<string, any>) => void): DesiredCard {
  const spec = structuredClone(c.spec) as Record<string, any>
  edit(spec)
  return {...c, spec}
}
