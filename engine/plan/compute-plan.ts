import {createHash} from 'node:crypto'
import {compareAddresses, type Address} from '../model/address.js'
import type {Diagnostic, SourcePosition} from '../model/diagnostic.js'
import {
  PLAN_FORMAT_VERSION,
  assertNever,
  type Drift,
  type FieldChange,
  type Plan,
  type PlanSummary,
  type Reason,
  type ResourceChange,
  type Step,
} from '../model/plan.js'
import type {ResourceState, StateDocument} from '../model/state.js'
import type {Family} from '../model/schema-semantics.js'
import {diffThreeWay, inherits, type SemanticsLookup} from '../diff/three-way.js'
import {canonicalJson, isPlainObject, valuesEqual} from '../diff/values.js'

/** A card as the specs declare it. */
export interface DesiredCard {
  address: Address
  kind: string
  name: string
  spec: Record<string, unknown>
  /**
   * Where the card's document starts. A function: positions are worked out from the file only when asked, and the
   * plan asks only for cards that change (most cards of a large project are unchanged).
   */
  source?: () => SourcePosition | undefined
  /** Position of a field inside the spec (`['balance_information', 'need_balance']`), for diagnostics. */
  positionOf?: (path: readonly string[]) => SourcePosition | undefined
}

/** The result of reading a card's live object. Absent from the map: not read. */
export type LiveRead = {status: 'found'; object: Record<string, unknown>; fingerprint: string} | {status: 'gone'; detail: string}

/** How a kind is written to its API family: the wire mapping the plan needs to compute exact request bodies. */
export interface KindWire {
  kind: string
  /** The API family the kind belongs to (which client, which rate bucket). */
  family: Family
  /** How a card of this kind is removed; `none` for create-only kinds. */
  remove: 'delete' | 'invalidate' | 'none'
  createOnly: boolean
  /** The create carries an idempotency key (out_request_no), so an interrupted create can be repeated safely. */
  idempotentCreate: boolean
  lookup: SemanticsLookup
  /** Top-level keys of the spec holding fields that only PATCH accepts (sent in a PATCH right after the create). */
  patchOnlyKeys(spec: Record<string, unknown>): string[]
  /** The POST body for a spec (fields with their own endpoint, and PATCH-only fields, excluded). */
  createBody(spec: Record<string, unknown>, outRequestNo: string): Record<string, unknown>
  /** The PATCH body for the given changed top-level keys (plus whatever the family requires in every PATCH). */
  patchBody(spec: Record<string, unknown>, keys: readonly string[]): Record<string, unknown>
  /** The body of the invalidate call (brand family). */
  invalidateBody(spec: Record<string, unknown>): Record<string, unknown>
}

export interface PlanInput {
  desired: readonly DesiredCard[]
  state: StateDocument | null
  /** The lineage the state has or will have (a new one is minted by the caller when there is no state). */
  lineage: string
  live: ReadonlyMap<Address, LiveRead>
  refreshed: boolean
  wires: ReadonlyMap<string, KindWire>
  version: string
  now: string
}

/**
 * out_request_no, the API's idempotency key for creates: derived from the state's lineage, the card's address, its
 * generation and the exact create body, so a resumed create repeats the same key and two projects never collide.
 * Characters allowed by the brand family: [0-9A-Za-z_-], at most 128 (reference §3).
 */
export function deriveOutRequestNo(lineage: string, address: Address, generation: number, body: unknown): string {
  const h = createHash('sha256').update(`${lineage}\n${address}\n${generation}\n${canonicalJson(body)}`).digest('hex')
  return `cf-${h.slice(0, 40)}`
}

/** Top-level spec keys that are written through a separate endpoint (the rights block). */
function endpointKeys(lookup: SemanticsLookup, spec: Record<string, unknown>): Set<string> {
  return new Set(Object.keys(spec).filter((k) => lookup(k)?.endpoint !== undefined))
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

export function computePlan(input: PlanInput): Plan {
  const diagnostics: Diagnostic[] = []
  const changes: ResourceChange[] = []
  const drift: Drift[] = []
  const desiredBy = new Map(input.desired.map((d) => [d.address, d]))
  const resources = input.state?.resources ?? {}
  const addresses = [...new Set([...desiredBy.keys(), ...Object.keys(resources)])].sort(compareAddresses)

  for (const address of addresses) {
    const d = desiredBy.get(address)
    const r = resources[address]
    const kind = d?.kind ?? r!.kind
    const wire = input.wires.get(kind)
    if (!wire) {
      diagnostics.push({severity: 'error', code: 'unknown-kind', message: `${address}: no provider for kind ${kind}`, address})
      continue
    }
    const ctx = {input, wire, address, diagnostics, drift}
    const change = d ? planDesired(ctx, d, r) : planRemoved(ctx, r!)
    const source = change.action !== 'no-op' ? d?.source?.() : undefined
    if (source) {
      const {address: a, kind: k, name: n, remote_id: id, ...rest} = change
      changes.push({address: a, kind: k, name: n, ...(id ? {remote_id: id} : {}), source, ...rest})
    } else {
      changes.push(change)
    }
  }

  const summary: PlanSummary = {create: 0, update: 0, replace: 0, delete: 0, invalidate: 0, no_op: 0, import: 0, forget: 0, move: 0, state_only: 0}
  for (const c of changes) {
    if (c.action === 'no-op') summary.no_op++
    else summary[c.action] = (summary[c.action] ?? 0) + 1
  }
  const hasErrors = diagnostics.some((x) => x.severity === 'error')
  return {
    format_version: PLAN_FORMAT_VERSION,
    cardform_version: input.version,
    created_at: input.now,
    prior_state: input.state ? {lineage: input.state.lineage, serial: input.state.serial} : null,
    lineage: input.lineage,
    refreshed: input.refreshed,
    changes,
    drift,
    diagnostics,
    summary,
    has_irreversible: changes.some((c) => c.irreversible_paths.length > 0),
    has_destructive: changes.some((c) => c.destructive),
    has_changes: changes.some((c) => c.action !== 'no-op'),
    applyable: !hasErrors,
  }
}

interface Ctx {
  input: PlanInput
  wire: KindWire
  address: Address
  diagnostics: Diagnostic[]
  drift: Drift[]
}

function base(d: DesiredCard | undefined, r: ResourceState | undefined, address: Address) {
  return {
    address,
    kind: d?.kind ?? r!.kind,
    name: d?.name ?? r!.name,
    ...(r?.remote_id ? {remote_id: r.remote_id} : {}),
  }
}

/** The steps that create a card from its spec: POST, then the write-only blocks through their own endpoint. */
function createSteps(ctx: Ctx, spec: Record<string, unknown>, generation: number, journal?: ResourceState): Step[] {
  const {wire} = ctx
  const body = journal?.create_body ?? wire.createBody(spec, '')
  const key = journal?.out_request_no ?? deriveOutRequestNo(ctx.input.lineage, ctx.address, generation, body)
  const steps: Step[] = [{op: 'create', body: journal?.create_body ?? wire.createBody(spec, key), out_request_no: key, generation}]
  const patchOnly = wire.patchOnlyKeys(spec)
  if (patchOnly.length > 0) steps.push({op: 'patch', body: wire.patchBody(spec, patchOnly)})
  for (const k of endpointKeys(wire.lookup, spec)) {
    const v = spec[k]
    if (isPlainObject(v)) steps.push({op: 'rights', body: v})
  }
  return steps
}

/** Steps that remove a card: `remoteId` names it, or, when absent, the card the change itself just created. */
function removeSteps(ctx: Ctx, spec: Record<string, unknown>, remoteId: string | undefined): Step[] {
  const target = remoteId ? {remote_id: remoteId} : {}
  switch (ctx.wire.remove) {
    case 'delete':
      return [{op: 'delete', ...target}]
    case 'invalidate':
      return [{op: 'invalidate', ...target, body: ctx.wire.invalidateBody(spec)}]
    case 'none':
      return []
    default:
      return assertNever(ctx.wire.remove)
  }
}

function onCreateDiagnostics(ctx: Ctx, d: DesiredCard, fieldChanges: FieldChange[]): void {
  for (const fc of fieldChanges) {
    if (!fc.irreversible) continue
    const pos = d.positionOf?.(fc.path.split('.'))
    ctx.diagnostics.push({
      severity: 'warning',
      code: 'irreversible-enable',
      message:
        `${ctx.address}: ${fc.path} will be switched on; the API never allows switching it off again ` +
        `(一旦展示无法关闭). apply needs --allow-irreversible, or this plan saved with --out`,
      address: ctx.address,
      path: `spec.${fc.path}`,
      ...(pos ? {source: pos} : {}),
    })
  }
}

function planDesired(ctx: Ctx, d: DesiredCard, r: ResourceState | undefined): ResourceChange {
  const {wire, input} = ctx
  const live = input.live.get(ctx.address)

  // A new card, a card whose create was interrupted, or a card deleted outside cardform: create it.
  if (!r || r.status === 'creating' || live?.status === 'gone') {
    const interrupted = r?.status === 'creating'
    const reason: Reason = !r ? 'new-in-config' : interrupted ? 'create-interrupted' : 'deleted-outside'
    if (live?.status === 'gone' && r) {
      ctx.drift.push({address: ctx.address, kind: r.kind, name: r.name, type: 'deleted', ...(r.remote_id ? {remote_id: r.remote_id} : {}), field_changes: []})
      ctx.diagnostics.push({
        severity: 'warning',
        code: 'deleted-outside',
        message: `${ctx.address}: card ${r.remote_id} was deleted outside cardform (${live.detail}); it will be created again`,
        address: ctx.address,
      })
    }
    const generation = interrupted ? r.generation : (input.state?.generations[ctx.address] ?? 0) + 1
    const diff = diffThreeWay({desired: d.spec, applied: undefined, writeOnly: {}, live: undefined, lookup: wire.lookup})
    const steps = createSteps(ctx, d.spec, generation, interrupted ? r : undefined)
    // An interrupted replacement: once the new card exists, the old one still has to go.
    if (interrupted && r.deposed) steps.push(...removeSteps(ctx, {...r.applied, ...r.write_only}, r.deposed))
    if (interrupted && !wire.idempotentCreate) {
      ctx.diagnostics.push({
        severity: 'error',
        code: 'create-outcome-unknown',
        message:
          `${ctx.address}: an earlier apply was interrupted while creating this card, and the ${d.kind} API has ` +
          `no request number to repeat the create safely. Check the aggregator console, then run ` +
          `\`cardform state rm ${ctx.address}\`: the next apply creates the card again (a second one if the first was made)`,
        address: ctx.address,
      })
    } else if (interrupted) {
      ctx.diagnostics.push({
        severity: 'warning',
        code: 'create-interrupted',
        message:
          `${ctx.address}: an earlier apply was interrupted while creating this card; apply repeats the create ` +
          `with the same out_request_no (${r.out_request_no}), which returns the card if it was made`,
        address: ctx.address,
      })
      if (!valuesEqual({...r.applied, ...r.write_only}, d.spec)) {
        ctx.diagnostics.push({
          severity: 'warning',
          code: 'create-interrupted-changed',
          message: `${ctx.address}: the spec changed since the interrupted create; run plan again after this apply to bring the card up to date`,
          address: ctx.address,
        })
      }
    }
    onCreateDiagnostics(ctx, d, diff.changes)
    const replacing = interrupted && r.deposed !== undefined
    return {
      ...base(d, r, ctx.address),
      ...(replacing ? {remote_id: r.deposed!} : {}),
      action: replacing ? 'replace' : 'create',
      reason,
      field_changes: diff.changes,
      unchanged_count: 0,
      replace_paths: [],
      irreversible_paths: diff.changes.filter((c) => c.irreversible).map((c) => c.path),
      destructive: replacing,
      steps,
    }
  }

  const liveObject = live?.status === 'found' ? live.object : undefined
  const diff = diffThreeWay({desired: d.spec, applied: r.applied, writeOnly: r.write_only, live: liveObject, lookup: wire.lookup})
  if (diff.drift.length > 0) {
    ctx.drift.push({address: ctx.address, kind: r.kind, name: r.name, ...(r.remote_id ? {remote_id: r.remote_id} : {}), type: 'modified', field_changes: diff.drift})
  }
  for (const rev of diff.reversals) {
    const pos = d.positionOf?.(rev.path.split('.'))
    ctx.diagnostics.push({
      severity: 'error',
      code: 'oneway-reversal',
      message:
        `${ctx.address}: spec.${rev.path} cannot be switched off: it is ${JSON.stringify(rev.before)} on the card and ` +
        `the API never allows turning it off once shown (一旦展示无法关闭). Set it back to ${JSON.stringify(rev.before)} ` +
        `or remove the field`,
      address: ctx.address,
      path: `spec.${rev.path}`,
      ...(pos ? {source: pos} : {}),
    })
  }
  for (const path of diff.abandoned) {
    ctx.diagnostics.push({
      severity: 'warning',
      code: 'unset-unsupported',
      message:
        `${ctx.address}: spec no longer sets ${path}; the API has no way to clear it, so the card keeps its ` +
        `current value and cardform stops managing the field`,
      address: ctx.address,
      path: `spec.${path}`,
    })
  }
  const fingerprint = live?.status === 'found' ? {live_fingerprint: live.fingerprint} : {}
  const common = {
    ...base(d, r, ctx.address),
    field_changes: diff.changes,
    unchanged_count: diff.unchanged,
    ...fingerprint,
  }
  const reason: Reason = diff.changes.some((c) => c.source === 'config') ? 'changed-in-config' : diff.changes.length ? 'drifted' : 'in-sync'
  // A replacement whose new card exists but whose old card was not removed yet (the apply was interrupted).
  const finishRemoval = r.deposed ? removeSteps(ctx, {...r.applied, ...r.write_only}, r.deposed) : []
  if (finishRemoval.length > 0) {
    ctx.diagnostics.push({
      severity: 'warning',
      code: 'replace-interrupted',
      message: `${ctx.address}: an earlier replacement created card ${r.remote_id} but did not remove the old card ${r.deposed}; apply removes it`,
      address: ctx.address,
    })
  }
  if (diff.changes.length === 0 && finishRemoval.length > 0) {
    return {...common, action: 'replace', reason: 'create-interrupted', replace_paths: [], irreversible_paths: [], destructive: true, steps: finishRemoval}
  }
  if (diff.changes.length === 0) {
    return {...common, action: 'no-op', reason, replace_paths: [], irreversible_paths: [], destructive: false, steps: []}
  }

  if (wire.createOnly) {
    for (const fc of diff.changes) {
      const pos = d.positionOf?.(fc.path.split('.'))
      ctx.diagnostics.push({
        severity: 'error',
        code: 'create-only-change',
        message:
          `${ctx.address}: spec.${fc.path} changed, but ${r.kind} cards can only be created: the API has no call ` +
          `to modify or delete them. Revert the change, or give the card a new name to create a new one`,
        address: ctx.address,
        path: `spec.${fc.path}`,
        ...(pos ? {source: pos} : {}),
      })
    }
    return {...common, action: 'no-op', reason, replace_paths: [], irreversible_paths: [], destructive: false, steps: []}
  }

  const irreversible = diff.changes.filter((c) => c.irreversible).map((c) => c.path)
  onCreateDiagnostics(ctx, d, diff.changes)
  const replacePaths = diff.changes.filter((c) => c.forces_replacement).map((c) => c.path)
  if (replacePaths.length > 0) {
    const generation = (input.state?.generations[ctx.address] ?? 0) + 1
    return {
      ...common,
      action: 'replace',
      reason,
      replace_paths: replacePaths,
      irreversible_paths: irreversible,
      destructive: true,
      steps: [...createSteps(ctx, d.spec, generation), ...removeSteps(ctx, {...r.applied, ...r.write_only}, r.remote_id)],
    }
  }

  const steps: Step[] = []
  const topKeys = [...new Set(diff.changes.map((c) => c.path.split('.')[0]!))]
  const viaEndpoint = endpointKeys(wire.lookup, {...d.spec, ...r.write_only})
  const patchKeys = topKeys.filter((k) => !viaEndpoint.has(k))
  if (patchKeys.length > 0) steps.push({op: 'patch', body: wire.patchBody(withDefaults(d.spec, diff.restored), patchKeys)})
  for (const k of topKeys.filter((k) => viaEndpoint.has(k))) {
    const v = d.spec[k]
    if (isPlainObject(v)) steps.push({op: 'rights', body: v})
  }
  steps.push(...finishRemoval)
  return {...common, action: 'update', reason, replace_paths: [], irreversible_paths: irreversible, destructive: finishRemoval.length > 0, steps}
}

/** The spec with fields that return to their server default written in, so the PATCH body carries them. */
function withDefaults(spec: Record<string, unknown>, restored: ReadonlyArray<{path: string; value: unknown}>): Record<string, unknown> {
  if (restored.length === 0) return spec
  const out = structuredClone(spec)
  for (const {path, value} of restored) {
    const parts = path.split('.')
    let cur: Record<string, unknown> = out
    for (const p of parts.slice(0, -1)) {
      if (!isPlainObject(cur[p])) cur[p] = {}
      cur = cur[p] as Record<string, unknown>
    }
    cur[parts[parts.length - 1]!] = value
  }
  return out
}

function planRemoved(ctx: Ctx, r: ResourceState): ResourceChange {
  const live = ctx.input.live.get(ctx.address)
  const applied = {...r.applied, ...r.write_only}
  const common = {...base(undefined, r, ctx.address), field_changes: [], unchanged_count: 0, replace_paths: [], irreversible_paths: []}
  const action = ctx.wire.remove === 'invalidate' ? ('invalidate' as const) : ('delete' as const)

  // Gone already: nothing to call, the card is only forgotten.
  if (live?.status === 'gone' && r.status === 'created') {
    ctx.drift.push({address: ctx.address, kind: r.kind, name: r.name, type: 'deleted', ...(r.remote_id ? {remote_id: r.remote_id} : {}), field_changes: []})
    return {...common, action, reason: 'deleted-outside', destructive: false, steps: []}
  }
  if (ctx.wire.remove === 'none') {
    ctx.diagnostics.push({
      severity: 'error',
      code: 'create-only-remove',
      message:
        `${ctx.address}: removed from config, but ${r.kind} cards cannot be deleted through the API. Put the spec ` +
        `back, or remove the card from state with \`cardform state rm ${ctx.address}\` to stop managing it`,
      address: ctx.address,
    })
    return {...common, action: 'no-op', reason: 'removed-from-config', destructive: false, steps: []}
  }
  // An interrupted create of a card that is no longer wanted: finish the create (to learn its id), then remove it.
  const steps =
    r.status === 'creating'
      ? [...createSteps(ctx, applied, r.generation, r).slice(0, 1), ...removeSteps(ctx, applied, undefined)]
      : removeSteps(ctx, applied, r.remote_id)
  if (r.deposed) steps.push(...removeSteps(ctx, applied, r.deposed))
  const fingerprint = live?.status === 'found' ? {live_fingerprint: live.fingerprint} : {}
  return {...common, ...fingerprint, action, reason: 'removed-from-config', destructive: true, steps}
}
