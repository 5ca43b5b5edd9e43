import {createHash} from 'node:crypto'
import {compareAddresses, formatAddress, type Address} from '../model/address.js'
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
  type SkippedChange,
  type Step,
} from '../model/plan.js'
import type {ResourceState, StateDocument} from '../model/state.js'
import type {Family, ReviewValues} from '../model/schema-semantics.js'
import {diffThreeWay, type SemanticsLookup} from '../diff/three-way.js'
import {canonicalJson, getPath, isPlainObject, valuesEqual} from '../diff/values.js'
import type {ImageFile} from '../model/image.js'
import {attachUploads, resolveImageFields} from './images.js'
import {isIgnored, nextRecord, recordDifferences, rememberOneWay, setPath, splitWriteOnly, type CardMetadata} from './state-record.js'

export {splitWriteOnly}

/** A card as the specs declare it. */
export interface DesiredCard {
  address: Address
  kind: string
  name: string
  spec: Record<string, unknown>
  /** import_id, moved_from and lifecycle from the document's metadata. */
  metadata?: CardMetadata
  /**
   * The image fields the spec takes from local files, by dotted spec path (`logo_url`, `rights.guide.head_image_url`);
   * at those paths the spec holds `{file: …}` (relative to the spec file) and the plan substitutes the media URL.
   */
  images?: Record<string, ImageFile>
  /**
   * Where the card's document starts. A function: positions are worked out from the file only when asked, and the
   * plan asks only for cards that change (most cards of a large project are unchanged).
   */
  source?: () => SourcePosition | undefined
  /** Position of a field inside the spec (`['balance_information', 'need_balance']`), for diagnostics. */
  positionOf?: (path: readonly string[]) => SourcePosition | undefined
  /** Position of a path from the document root (`['metadata', 'lifecycle', 'prevent_destroy']`). */
  documentPositionOf?: (path: readonly string[]) => SourcePosition | undefined
}

/** The result of reading a card's live object. Absent from the map: not read. */
export type LiveRead = {status: 'found'; object: Record<string, unknown>; fingerprint: string} | {status: 'gone'; detail: string}

/** A card named by metadata.import_id, as read: or the reason it could not be (another merchant's card, say). */
export type ImportRead = LiveRead | {status: 'unreadable'; detail: string}

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
  /** The one-way fields (x-cardform-one-way) and the value that switches each on. */
  oneWay: ReadonlyArray<{path: string; on: unknown}>
  /** Top-level keys of the spec holding fields that only PATCH accepts (sent in a PATCH right after the create). */
  patchOnlyKeys(spec: Record<string, unknown>): string[]
  /** The POST body for a spec (fields with their own endpoint, and PATCH-only fields, excluded). */
  createBody(spec: Record<string, unknown>, outRequestNo: string): Record<string, unknown>
  /** The PATCH body for the given changed top-level keys (plus whatever the family requires in every PATCH). */
  patchBody(spec: Record<string, unknown>, keys: readonly string[]): Record<string, unknown>
  /** The body of the invalidate call (brand family). */
  invalidateBody(spec: Record<string, unknown>): Record<string, unknown>
  /** The live card's review status field (x-cardform-review), for kinds whose cards are reviewed. */
  review?: {path: string} & ReviewValues
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
  /**
   * The live cards named by metadata.import_id, keyed by the address of the document that names them (read by the
   * caller, since they are not in state). Absent: not read.
   */
  imports?: ReadonlyMap<Address, ImportRead>
  /** apply --no-delete: removals and replacements are listed as skipped instead of planned. */
  noDelete?: boolean
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

export function computePlan(input: PlanInput): Plan {
  const diagnostics: Diagnostic[] = []
  const changes: ResourceChange[] = []
  const skipped: SkippedChange[] = []
  const drift: Drift[] = []
  const desiredBy = new Map(resolveImageFields(input.desired, input.state?.media).map((d) => [d.address, d]))
  const uploads = new Map<string, ImageFile>()
  const resources = input.state?.resources ?? {}
  const moves = resolveMoves(input, desiredBy, diagnostics)
  const movedAway = new Set(moves.values())
  const addresses = [...new Set([...desiredBy.keys(), ...Object.keys(resources)])].filter((a) => !movedAway.has(a)).sort(compareAddresses)
  const managedIds = new Map<string, Address>()
  for (const [address, r] of Object.entries(resources)) if (r.remote_id) managedIds.set(r.remote_id, address)

  for (const address of addresses) {
    const d = desiredBy.get(address)
    const from = moves.get(address)
    const r = resources[from ?? address]
    const kind = d?.kind ?? r!.kind
    const wire = input.wires.get(kind)
    if (!wire) {
      diagnostics.push({severity: 'error', code: 'unknown-kind', message: `${address}: no provider for kind ${kind}`, address})
      continue
    }
    const ctx: Ctx = {input, wire, address, liveAddress: from ?? address, diagnostics, drift}
    let change: ResourceChange
    if (d && !r && d.metadata?.import_id !== undefined) {
      const imported = planImport(ctx, d, d.metadata.import_id, managedIds)
      if (!imported) continue
      change = imported
    } else {
      if (d && r && d.metadata?.import_id !== undefined && r.remote_id !== undefined && r.remote_id !== d.metadata.import_id) {
        diagnostics.push({
          severity: 'error',
          code: 'import-conflict',
          message:
            `${address}: metadata.import_id names card ${d.metadata.import_id}, but state already records card ${r.remote_id} ` +
            `at this address. Remove import_id, or run \`cardform state rm ${address}\` first to adopt the other card`,
          address,
          ...sourceOf(d, ['metadata', 'import_id']),
        })
      }
      change = d ? planDesired(ctx, d, r) : planRemoved(ctx, r!)
    }
    if (from) change.moved_from = from
    if (!guardDestruction(ctx, d, r, change, skipped)) continue
    for (const image of attachUploads(change, d?.images)) if (!uploads.has(image.sha256)) uploads.set(image.sha256, image)
    const source = change.action !== 'no-op' || change.moved_from || change.state_updates ? d?.source?.() : undefined
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
    if (c.moved_from) summary.move!++
    if (c.state_updates && c.steps.length === 0 && c.action === 'no-op') summary.state_only!++
  }
  const hasErrors = diagnostics.some((x) => x.severity === 'error')
  return {
    format_version: PLAN_FORMAT_VERSION,
    cardform_version: input.version,
    created_at: input.now,
    prior_state: input.state ? {lineage: input.state.lineage, serial: input.state.serial} : null,
    lineage: input.lineage,
    refreshed: input.refreshed,
    mode: 'normal',
    changes,
    ...(uploads.size > 0 ? {uploads: [...uploads.values()]} : {}),
    drift,
    ...(skipped.length > 0 ? {skipped} : {}),
    diagnostics,
    summary,
    has_irreversible: changes.some((c) => c.irreversible_paths.length > 0),
    has_destructive: changes.some((c) => c.destructive),
    has_changes: changes.some(changesSomething),
    has_drift: drift.length > 0,
    applyable: !hasErrors,
  }
}

/** True when applying the change calls the API or writes state. */
export function changesSomething(c: ResourceChange): boolean {
  return c.action !== 'no-op' || c.moved_from !== undefined || (c.state_updates?.length ?? 0) > 0
}

function sourceOf(d: DesiredCard | undefined, path: readonly string[]): {source?: SourcePosition} {
  const pos = d?.documentPositionOf?.(path)
  return pos ? {source: pos} : {}
}

/**
 * metadata.moved_from: a document whose address is not in state takes over the state entry of its old name (same
 * kind), so a rename moves state instead of deleting the card for every member and creating another. A moved_from
 * whose old name is not in state is history (the move was applied already) and is ignored, as Terraform ignores a
 * `moved` block whose `from` no longer exists.
 */
function resolveMoves(input: PlanInput, desiredBy: ReadonlyMap<Address, DesiredCard>, diagnostics: Diagnostic[]): Map<Address, Address> {
  const moves = new Map<Address, Address>()
  const taken = new Map<Address, Address>()
  const resources = input.state?.resources ?? {}
  for (const d of input.desired) {
    const old = d.metadata?.moved_from
    if (old === undefined) continue
    const from = formatAddress(d.kind, old)
    if (from === d.address || resources[d.address] || !resources[from]) continue
    const where = sourceOf(d, ['metadata', 'moved_from'])
    if (desiredBy.has(from)) {
      diagnostics.push({
        severity: 'error',
        code: 'moved-from-in-config',
        message: `${d.address}: metadata.moved_from names ${from}, which is still in the config; remove one of the two documents`,
        address: d.address,
        ...where,
      })
      continue
    }
    const other = taken.get(from)
    if (other) {
      diagnostics.push({
        severity: 'error',
        code: 'moved-from-twice',
        message: `${d.address}: metadata.moved_from names ${from}, which ${other} moves from too`,
        address: d.address,
        ...where,
      })
      continue
    }
    taken.set(from, d.address)
    moves.set(d.address, from)
  }
  return moves
}

/**
 * prevent_destroy (from the spec, or remembered in state once the spec is gone) turns any destruction into an error,
 * whatever the flags; --no-delete turns it into a skipped change. Returns false when the change is left out.
 */
function guardDestruction(ctx: Ctx, d: DesiredCard | undefined, r: ResourceState | undefined, change: ResourceChange, skipped: SkippedChange[]): boolean {
  const destroys = change.destructive && change.steps.some((s) => s.op === 'delete' || s.op === 'invalidate')
  if (!destroys) return true
  const prevent = d ? d.metadata?.lifecycle?.prevent_destroy === true : r?.lifecycle?.prevent_destroy === true
  if (prevent) {
    const what = change.action === 'replace' ? `must be replaced (forced by ${change.replace_paths.join(', ') || 'an unfinished replacement'})` : `would be ${change.action === 'invalidate' ? 'invalidated' : 'deleted'} (${change.reason === 'removed-from-config' ? 'removed from config' : change.reason})`
    ctx.diagnostics.push({
      severity: 'error',
      code: 'prevent-destroy',
      message:
        `${ctx.address}: card ${change.remote_id ?? ''} ${what}, but lifecycle.prevent_destroy is set` +
        `${d ? '' : ' (remembered in state: the spec was removed)'}; no flag overrides it. ` +
        (change.action === 'replace'
          ? 'Revert the change that forces replacement, or set prevent_destroy to false in its own reviewed change first'
          : 'Put the spec back, or set prevent_destroy to false and apply before removing it'),
      address: ctx.address,
      ...sourceOf(d, ['metadata', 'lifecycle', 'prevent_destroy']),
    })
    return true
  }
  if (ctx.input.noDelete) {
    skipped.push({address: change.address, kind: change.kind, name: change.name, action: change.action, ...(change.remote_id ? {remote_id: change.remote_id} : {}), why: 'no-delete'})
    return false
  }
  return true
}

interface Ctx {
  input: PlanInput
  wire: KindWire
  address: Address
  /** The address the card's live read is filed under: its old one when it moves. */
  liveAddress: Address
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

/** The generation of the next card at this address (a moved card carries its old address's count). */
function nextGeneration(ctx: Ctx): number {
  const g = ctx.input.state?.generations ?? {}
  return Math.max(g[ctx.address] ?? 0, g[ctx.liveAddress] ?? 0) + 1
}

function planDesired(ctx: Ctx, d: DesiredCard, r: ResourceState | undefined): ResourceChange {
  const {wire, input} = ctx
  const live = input.live.get(ctx.liveAddress)

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
    const generation = interrupted ? r.generation : nextGeneration(ctx)
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
      // The resumed create sends the journaled body; the steps after it (PATCH-only fields, rights) come from the spec
      // as it is now. So the spec changed only if the create body it would give now differs from the journaled one.
      if (r.create_body !== undefined && canonicalJson(wire.createBody(d.spec, r.out_request_no)) !== canonicalJson(r.create_body)) {
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
  const ignore = d.metadata?.lifecycle?.ignore_changes
  const diff = diffThreeWay({
    desired: d.spec,
    applied: r.applied,
    writeOnly: r.write_only,
    live: liveObject,
    lookup: wire.lookup,
    ...(ignore ? {ignore} : {}),
    switchedOn: rememberOneWay(wire, r.one_way, r.applied, r.write_only),
  })
  if (diff.drift.length > 0) {
    ctx.drift.push({address: ctx.address, kind: r.kind, name: r.name, ...(r.remote_id ? {remote_id: r.remote_id} : {}), type: 'modified', field_changes: diff.drift, ...(live?.status === 'found' ? {live_fingerprint: live.fingerprint} : {})})
  }
  reportReversals(ctx, d, diff.reversals)
  reportAbandoned(ctx, d, diff.abandoned)
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
  // A refused reversal is never applied, so it records nothing either.
  const updates = stateUpdates(ctx, d, r, [...diff.changes, ...diff.reversals])
  if (diff.changes.length === 0 && finishRemoval.length > 0) {
    return {...common, action: 'replace', reason: 'create-interrupted', replace_paths: [], irreversible_paths: [], destructive: true, steps: finishRemoval, ...updates}
  }
  if (diff.changes.length === 0) {
    return {...common, action: 'no-op', reason, replace_paths: [], irreversible_paths: [], destructive: false, steps: [], ...updates}
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
    return {
      ...common,
      action: 'replace',
      reason,
      replace_paths: replacePaths,
      irreversible_paths: irreversible,
      destructive: true,
      steps: [...createSteps(ctx, d.spec, nextGeneration(ctx)), ...removeSteps(ctx, {...r.applied, ...r.write_only}, r.remote_id)],
      ...updates,
    }
  }

  const current = {...(liveObject ?? r.applied), ...r.write_only}
  const steps = [...updateSteps(ctx, withIgnored(withDefaults(d.spec, diff.restored), ignore, current), r.write_only, diff.changes), ...finishRemoval]
  return {...common, action: 'update', reason, replace_paths: [], irreversible_paths: irreversible, destructive: finishRemoval.length > 0, steps, ...updates}
}

/** PATCH of the changed top-level keys, then the write-only blocks that have their own endpoint (rights). */
function updateSteps(ctx: Ctx, spec: Record<string, unknown>, writeOnly: Record<string, unknown>, changes: readonly FieldChange[]): Step[] {
  const {wire} = ctx
  const steps: Step[] = []
  const topKeys = [...new Set(changes.map((c) => c.path.split(/[.[]/)[0]!))]
  const viaEndpoint = endpointKeys(wire.lookup, {...spec, ...writeOnly})
  const patchKeys = topKeys.filter((k) => !viaEndpoint.has(k))
  if (patchKeys.length > 0) steps.push({op: 'patch', body: wire.patchBody(spec, patchKeys)})
  for (const k of topKeys.filter((k) => viaEndpoint.has(k))) {
    const v = spec[k]
    if (isPlainObject(v)) steps.push({op: 'rights', body: v})
  }
  return steps
}

/**
 * The spec with every ignore_changes path set to the card's current value, so a PATCH of an enclosing object (or a
 * field the family sends in every PATCH) carries what the card has, never resets it (Argo CD's #9678 trap).
 */
function withIgnored(spec: Record<string, unknown>, ignore: readonly string[] | undefined, current: Record<string, unknown>): Record<string, unknown> {
  if (!ignore || ignore.length === 0) return spec
  const out = structuredClone(spec)
  for (const path of ignore) {
    const parts = path.split('.')
    setPath(out, parts, getPath(current, parts))
  }
  return out
}

function reportReversals(ctx: Ctx, d: DesiredCard, reversals: ReadonlyArray<{path: string; before: unknown}>): void {
  for (const rev of reversals) {
    const pos = d.positionOf?.(rev.path.split('.'))
    ctx.diagnostics.push({
      severity: 'error',
      code: 'oneway-reversal',
      message:
        `${ctx.address}: spec.${rev.path} cannot be switched off: it was switched on for this card (${JSON.stringify(rev.before)}) and ` +
        `the API never allows turning it off once shown (一旦展示无法关闭). Set it back to ${JSON.stringify(rev.before)} ` +
        `or leave the field out`,
      address: ctx.address,
      path: `spec.${rev.path}`,
      ...(pos ? {source: pos} : {}),
    })
  }
}

/** One warning per top-level field group the spec stopped setting (not one per leaf), placed where the group was. */
function reportAbandoned(ctx: Ctx, d: DesiredCard, abandoned: readonly string[]): void {
  const groups = new Map<string, string[]>()
  for (const path of abandoned) {
    const top = path.split('.')[0]!
    groups.set(top, [...(groups.get(top) ?? []), path])
  }
  for (const [top, paths] of groups) {
    const pos = d.positionOf?.([top])
    const fields = paths.length === 1 && paths[0] === top ? top : `${top} (${paths.join(', ')})`
    ctx.diagnostics.push({
      severity: 'warning',
      code: 'unset-unsupported',
      message:
        `${ctx.address}: spec no longer sets ${fields}; the API has no way to clear ${paths.length > 1 ? 'them' : 'it'}, so the card keeps its ` +
        `current value and cardform stops managing ${paths.length > 1 ? 'these fields' : 'the field'}`,
      address: ctx.address,
      path: `spec.${top}`,
      ...(pos ? {source: pos} : {}),
    })
  }
}

/** What apply will record in state beyond the field changes' own effect; absent when nothing. */
function stateUpdates(ctx: Ctx, d: DesiredCard, r: ResourceState, changes: ReadonlyArray<{path: string}>): {state_updates?: string[]} {
  const covered = new Set(changes.map((c) => c.path.split(/[.[]/)[0]!))
  const lines = recordDifferences(r, nextRecord(ctx.wire, d.spec, d.metadata, r), covered)
  return lines.length > 0 ? {state_updates: lines} : {}
}

/**
 * metadata.import_id on a document whose address state does not hold: adopt the live card. The plan shows `= import`
 * with the field changes that bring the card to the spec; apply records the card in state (nothing is created), then
 * makes those changes. Fields the spec does not set are left as the card has them and are not managed. Returns
 * undefined when the import cannot be planned (an error diagnostic says why).
 */
function planImport(ctx: Ctx, d: DesiredCard, cardId: string, managedIds: ReadonlyMap<string, Address>): ResourceChange | undefined {
  const {wire, input} = ctx
  const where = sourceOf(d, ['metadata', 'import_id'])
  const fail = (code: string, message: string) => {
    ctx.diagnostics.push({severity: 'error', code, message: `${ctx.address}: ${message}`, address: ctx.address, ...where})
    return undefined
  }
  const other = managedIds.get(cardId)
  if (other !== undefined) return fail('import-already-managed', `metadata.import_id names card ${cardId}, which state already manages as ${other}; one card can have only one address (use moved_from or \`cardform state mv\` to rename it)`)
  if (wire.createOnly || wire.family === 'aggregator') return fail('import-unsupported', `${d.kind} cards cannot be imported: the API has no call to read a card back`)
  const twin = input.desired.find((o) => o !== d && o.metadata?.import_id === cardId)
  if (twin) return fail('import-duplicate', `metadata.import_id names card ${cardId}, which ${twin.address} imports too`)
  const live = input.imports?.get(ctx.address)
  if (!input.refreshed || live === undefined) return fail('import-not-read', `card ${cardId} named by metadata.import_id was not read; import needs the live card (run plan without --refresh=false)`)
  if (live.status === 'gone') return fail('import-not-found', `card ${cardId} named by metadata.import_id cannot be imported: ${live.detail}`)
  if (live.status === 'unreadable') {
    return fail('import-not-readable', `cannot read card ${cardId} named by metadata.import_id (is it another merchant's or brand's card?): ${live.detail}`)
  }

  const {readable} = splitWriteOnly(wire.lookup, d.spec)
  const ignore = d.metadata?.lifecycle?.ignore_changes
  // What the card has now at the paths the spec sets: the base of the diff, so that every difference is a change
  // in config and nothing shows as drift (cardform never applied anything to this card).
  const current = projectOnto(readable, live.object)
  const diff = diffThreeWay({desired: d.spec, applied: current, writeOnly: {}, live: live.object, lookup: wire.lookup, ...(ignore ? {ignore} : {})})
  const forced = diff.changes.filter((c) => c.forces_replacement).map((c) => c.path)
  if (forced.length > 0) {
    return fail(
      'import-needs-replacement',
      `card ${cardId} differs from the spec in ${forced.join(', ')}, which cannot change after creation; importing would ` +
        `replace the card for every member who holds it. Make the spec match the card (see \`cardform query\`)`,
    )
  }
  reportReversals(ctx, d, diff.reversals)
  onCreateDiagnostics(ctx, d, diff.changes)
  // Write-only fields cannot be read back: the spec's values are sent (rights through their own endpoint). A one-way
  // switch the spec sets off may already be on in the console, which the API would refuse: say so now.
  for (const {path, on} of wire.oneWay) {
    const value = getPath(d.spec, path.split('.'))
    if (value !== undefined && !valuesEqual(value, on) && diff.changes.some((c) => c.write_only && (c.path === path || path.startsWith(`${c.path}.`)))) {
      const pos = d.positionOf?.(path.split('.'))
      ctx.diagnostics.push({
        severity: 'warning',
        code: 'import-write-only-unknown',
        message:
          `${ctx.address}: spec.${path} is ${JSON.stringify(value)}, but GET cannot tell whether card ${cardId} has it on; ` +
          `if it was switched on in the console, the API refuses to switch it off (一旦展示无法关闭) and apply fails for this card`,
        address: ctx.address,
        path: `spec.${path}`,
        ...(pos ? {source: pos} : {}),
      })
    }
  }
  const steps = updateSteps(ctx, withIgnored(d.spec, ignore, live.object), {}, diff.changes)
  return {
    address: ctx.address,
    kind: d.kind,
    name: d.name,
    remote_id: cardId,
    action: 'import',
    reason: 'import-requested',
    field_changes: diff.changes,
    unchanged_count: diff.unchanged,
    replace_paths: [],
    irreversible_paths: diff.changes.filter((c) => c.irreversible).map((c) => c.path),
    destructive: false,
    steps,
    live_fingerprint: live.fingerprint,
  }
}

/**
 * `object`'s values at the leaf paths `shape` sets (plain objects are descended into; lists and scalars are taken
 * whole): what a card has at the fields a spec manages.
 */
export function projectOnto(shape: Record<string, unknown>, object: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(shape)) {
    const o = object[k]
    if (o === undefined) continue
    if (isPlainObject(v) && isPlainObject(o)) {
      const inner = projectOnto(v, o)
      if (Object.keys(inner).length > 0) out[k] = inner
    } else {
      out[k] = structuredClone(o)
    }
  }
  return out
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
  const live = ctx.input.live.get(ctx.liveAddress)
  const applied = {...r.applied, ...r.write_only}
  const common = {...base(undefined, r, ctx.address), field_changes: [], unchanged_count: 0, replace_paths: [], irreversible_paths: []}
  const action = ctx.wire.remove === 'invalidate' ? ('invalidate' as const) : ('delete' as const)

  // Gone already: nothing to call, the card is only forgotten.
  if (live?.status === 'gone' && r.status === 'created') {
    ctx.drift.push({address: ctx.address, kind: r.kind, name: r.name, type: 'deleted', ...(r.remote_id ? {remote_id: r.remote_id} : {}), field_changes: []})
    return {...common, action, reason: 'deleted-outside', destructive: false, steps: []}
  }
  // lifecycle.destroy: false (remembered in state): stop managing the card, leave it live (OpenTofu 1.12's forget).
  if (r.lifecycle?.destroy === false && r.status === 'created' && !r.deposed) {
    return {...common, action: 'forget', reason: 'removed-from-config', destructive: false, steps: []}
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
