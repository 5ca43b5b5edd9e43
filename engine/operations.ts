import {randomUUID} from 'node:crypto'
import {readFile} from 'node:fs/promises'
import path from 'node:path'
import type {Address} from './model/address.js'
import type {Diagnostic} from './model/diagnostic.js'
import type {Plan, PlanMode} from './model/plan.js'
import type {OnProgress} from './model/progress.js'
import {emptyState, type StateDocument} from './model/state.js'
import {applyPlan, type ApplyEvent, type ApplyResult, type DesiredSpec} from './apply/apply-plan.js'
import {acceptSavedDrift, savedPlanConflicts} from './apply/refresh-only-apply.js'
import {resolveImageFields} from './plan/images.js'
import {computePlan, type DesiredCard, type ImportRead, type LiveRead} from './plan/compute-plan.js'
import {importsToRead, readImports, refreshLive, type RefreshStrategy} from './plan/refresh.js'
import {annotateDrift, computeRefreshOnlyPlan} from './plan/refresh-only.js'
import {collectReviews} from './plan/review.js'
import {selectCards} from './plan/targeting.js'
import {readSavedPlan, staleReasons, writeSavedPlan, type SavedPlan} from './plan/saved-plan.js'
import {StateManager} from './state/state-manager.js'
import {packageVersion} from './providers/wechatpay/client.js'
import type {Workspace} from './workspace.js'

/** What a plan considers and how: --target/--exclude patterns and --refresh-only. */
export interface PlanScope {
  targets?: string[]
  excludes?: string[]
  /** refresh-only: only the live cards' differences from state; no config change is planned. */
  mode?: PlanMode
}

export interface PlanOptions extends PlanScope {
  refresh: boolean
  /** --no-delete: removals and replacements are listed as skipped, never planned. */
  noDelete?: boolean
  parallelism: number
  lock: boolean
  lockTimeoutMs: number
  /** Write the plan (with its desired specs) here for `apply FILE`; a plan with errors is not written. */
  out?: string
  /** Internal (no flag): force refresh by GET or by list, for tests and benchmarks; default `auto` (refreshLive). */
  refreshStrategy?: RefreshStrategy
  /** Told how the refresh (reading the live cards) is getting on, for a progress display. */
  onRefreshProgress?: OnProgress
}

export interface PlanRun {
  plan: Plan
  desired: DesiredCard[]
  state: StateDocument | null
  /** The live cards the refresh read (empty when it did not run), by the address state has them under. */
  live: ReadonlyMap<Address, LiveRead>
  /** The cards named by metadata.import_id, as read. */
  imports: ReadonlyMap<Address, ImportRead>
  /** Where the plan was saved (`out`); absent when it was not asked for, or refused because the plan has errors. */
  savedTo?: string
}

/** Refresh and plan. Holds the state lock while reading, unless told not to. */
export async function runPlan(ws: Workspace, opts: PlanOptions): Promise<PlanRun> {
  const lock = opts.lock ? await ws.store.lock('plan', opts.lockTimeoutMs) : undefined
  try {
    const run = await planWithState(ws, await ws.store.read(), opts)
    // A plan with errors cannot be applied, so it is not saved: `apply FILE` would only refuse it.
    if (opts.out && run.plan.applyable) {
      await writeSavedPlan(opts.out, toSaved(run, ws.project.variables))
      return {...run, savedTo: opts.out}
    }
    return run
  } finally {
    if (lock) await ws.store.unlock(lock.id)
  }
}

/**
 * Refresh and plan the selected cards. `state` is the full document and stays so (apply writes it back); only a copy
 * narrowed to the targeted cards is refreshed and planned.
 */
async function planWithState(
  ws: Workspace,
  state: StateDocument | null,
  opts: PlanScope & {refresh: boolean; parallelism: number; noDelete?: boolean; refreshStrategy?: RefreshStrategy; onRefreshProgress?: OnProgress},
): Promise<PlanRun> {
  const selected = selectCards(ws.desired, state, opts.targets ?? [], opts.excludes ?? [])
  // Image files become their recorded media URLs (or upload markers) here, so the specs saved with a plan and handed
  // to apply are the ones the plan was computed from.
  const scope = {...selected, desired: resolveImageFields(selected.desired, state?.media)}
  const refreshOnly = opts.mode === 'refresh-only'
  const refresh = opts.refresh || refreshOnly
  let live = new Map<Address, LiveRead>()
  let imports = new Map<Address, ImportRead>()
  const diagnostics: Diagnostic[] = [...scope.diagnostics]
  if (refresh && scope.state && Object.keys(scope.state.resources).length > 0) {
    const refreshed = await refreshLive(scope.state, await ws.gateway(), {
      parallelism: opts.parallelism,
      ...(opts.refreshStrategy ? {strategy: opts.refreshStrategy} : {}),
      ...(opts.onRefreshProgress ? {onProgress: opts.onRefreshProgress} : {}),
    })
    live = refreshed.live
    diagnostics.push(...refreshed.diagnostics)
  }
  const wanted = refreshOnly ? [] : importsToRead(scope.desired, state)
  if (refresh && wanted.length > 0) imports = await readImports(wanted, await ws.gateway(), opts.parallelism)
  const input = {
    imports,
    ...(opts.noDelete ? {noDelete: true} : {}),
    state: scope.state,
    lineage: state?.lineage ?? randomUUID(),
    live,
    refreshed: refresh,
    wires: ws.wires,
    version: packageVersion(),
    now: new Date().toISOString(),
  }
  const plan = annotateDrift(refreshOnly ? computeRefreshOnlyPlan(input) : computePlan({...input, desired: scope.desired}), live)
  plan.mode = refreshOnly ? 'refresh-only' : 'normal'
  // Review status is reported beside the plan, never planned: only the cards not (yet) approved are listed.
  if (refresh) plan.reviews = collectReviews(scope.state, live, ws.wires).filter((r) => r.status !== 'approved')
  if (opts.targets?.length) plan.targets = opts.targets
  if (opts.excludes?.length) plan.excludes = opts.excludes
  if (diagnostics.length) {
    plan.diagnostics.unshift(...diagnostics)
    plan.applyable = !plan.diagnostics.some((d) => d.severity === 'error')
  }
  return {plan, desired: scope.desired, state, live, imports}
}

function toSaved(run: PlanRun, variables: Record<string, string | number | boolean> | undefined): SavedPlan {
  return {
    file_format: 'cardform-saved-plan',
    plan: run.plan,
    desired: run.desired.map((d) => ({address: d.address, kind: d.kind, name: d.name, spec: d.spec, ...(d.metadata && Object.keys(d.metadata).length ? {metadata: d.metadata} : {})})),
    ...(variables ? {variables} : {}),
  }
}

export interface ApplyOptions extends PlanScope {
  /** Apply this saved plan instead of planning now. */
  planFile?: string
  autoApprove: boolean
  /** Ask the person at the terminal; absent when there is none. */
  confirm?: (plan: Plan) => Promise<boolean>
  /** Called with the plan before anything is applied, for display. */
  onPlan?: (plan: Plan) => void
  allowDestroy: boolean
  allowIrreversible: boolean
  parallelism: number
  failFast: boolean
  signal?: AbortSignal
  lockTimeoutMs: number
  refresh: boolean
  /** --no-delete: never delete, invalidate or replace a card; such changes are listed as skipped. */
  noDelete?: boolean
  onEvent?: (e: ApplyEvent) => void
  /** Told how the refresh (reading the live cards, or those a saved plan touches) is getting on. */
  onRefreshProgress?: OnProgress
  /** Told how the apply is getting on (cards done of those to apply, remote calls made), for a progress display. */
  onProgress?: OnProgress
}

export interface ApplyRun {
  plan: Plan
  /** Why nothing was applied, when apply refused; empty otherwise. */
  refused: Diagnostic[]
  result?: ApplyResult
  /** The state after apply (serial and lineage for the summary). */
  state?: StateDocument
  /** apply --refresh-only: the cards whose live values were recorded in state, and those removed from it. */
  accepted?: {modified: Address[]; removed: Address[]}
  /** The lock could not be released (e.g. the state's directory became read-only): its ID and why. */
  lockNotReleased?: {id: string; message: string}
}

/**
 * Apply a saved plan, or plan and apply. Everything happens under the state lock; the gates (errors, stale plan,
 * destruction, irreversible switches, approval) are checked before the first remote call.
 */
export async function runApply(ws: Workspace, opts: ApplyOptions): Promise<ApplyRun> {
  const lock = await ws.store.lock('apply', opts.lockTimeoutMs)
  let run: ApplyRun
  try {
    run = await applyLocked(ws, opts)
  } catch (e) {
    await ws.store.unlock(lock.id).catch(() => {})
    throw e
  }
  // A lock that cannot be removed must not hide what the apply did (the summary lists the cards it made).
  try {
    await ws.store.unlock(lock.id)
  } catch (e) {
    run.lockNotReleased = {id: lock.id, message: (e as Error).message}
  }
  return run
}

async function applyLocked(ws: Workspace, opts: ApplyOptions): Promise<ApplyRun> {
  const state = await ws.store.read()
  // A journal left by an interrupted apply is folded into the document before anything else (same serial).
  if (state) await ws.store.compact?.(state)
  let plan: Plan
  let desired: Map<Address, DesiredSpec>
  const refused: Diagnostic[] = []
  const fromFile = opts.planFile !== undefined
  let live: ReadonlyMap<Address, LiveRead> = new Map()
  if (opts.planFile) {
    const saved = await readSavedPlan(opts.planFile)
    plan = saved.plan
    desired = new Map(saved.desired.map((d) => [d.address, {spec: d.spec, ...(d.metadata ? {metadata: d.metadata} : {})}]))
    refused.push(...savedPlanConflicts(plan, opts, opts.planFile))
    if (refused.length === 0) {
      const stale = await checkStale(ws, saved, state, opts.onRefreshProgress)
      refused.push(...stale.diagnostics)
      live = stale.live
    }
    opts.onPlan?.(plan)
  } else {
    const run = await planWithState(ws, state, opts)
    plan = run.plan
    live = run.live
    desired = new Map(run.desired.map((d) => [d.address, {spec: d.spec, ...(d.metadata ? {metadata: d.metadata} : {})}]))
    opts.onPlan?.(plan)
  }
  refused.push(...gates(plan, opts, fromFile))
  // Check the credentials (and start the embedded emulator) before anyone is asked to approve.
  if (refused.length === 0 && plan.changes.some((c) => c.steps.length > 0)) await ws.gateway()
  // A saved plan was reviewed when it was made: applying it is the approval (as with Terraform's `apply FILE`).
  if (refused.length === 0 && plan.has_changes && !opts.autoApprove && !fromFile) {
    if (!opts.confirm) {
      refused.push({severity: 'error', code: 'approval-required', message: 'apply needs approval: run it on a terminal to confirm, or pass --auto-approve'})
    } else if (!(await opts.confirm(plan))) {
      refused.push({severity: 'error', code: 'apply-cancelled', message: 'apply cancelled: nothing was changed'})
    }
  }
  if (refused.length > 0) return {plan, refused}
  if (plan.mode === 'refresh-only') return {plan, refused, ...(await acceptSavedDrift(ws, state, plan, live))}

  const doc = state ?? emptyState(plan.lineage, packageVersion())
  const manager = new StateManager(ws.store, doc)
  const result = await applyPlan({
    plan,
    desired,
    state: manager,
    gateway: () => ws.gateway(),
    wires: ws.wires,
    parallelism: opts.parallelism,
    failFast: opts.failFast,
    readImage: (image) => readFile(path.resolve(ws.dir, image.file)),
    ...(opts.signal ? {signal: opts.signal} : {}),
    ...(opts.onEvent ? {onEvent: opts.onEvent} : {}),
    ...(opts.onProgress ? {onProgress: opts.onProgress} : {}),
  })
  // A first apply with nothing to do still records the state (unless writing it already failed: the summary says so).
  if (!state && doc.serial === 0 && !result.stateWriteFailure) await manager.persist()
  await compactState(manager, result)
  return {plan, refused, result, state: doc}
}

/**
 * Fold the apply's journal into the state document. Every change is already recorded (in the journal), so a failure
 * here loses nothing: it is reported with the state write failures, and the next run folds the journal in.
 */
async function compactState(manager: StateManager, result: ApplyResult): Promise<void> {
  if (result.stateWriteFailure) return
  try {
    await manager.compact()
  } catch (e) {
    const code = (e as {code?: unknown}).code
    result.stateWriteFailure = {
      message: `every change is recorded in the state's journal, but folding it into the state document failed (the next run does it): ${(e as Error).message}`,
      ...(typeof code === 'string' ? {code} : {}),
      lastSerial: manager.doc.serial,
      unrecorded: [],
    }
  }
}

/** The refusals that do not depend on the person at the terminal. */
function gates(plan: Plan, opts: ApplyOptions, fromFile: boolean): Diagnostic[] {
  const out: Diagnostic[] = []
  if (!plan.applyable) {
    out.push({severity: 'error', code: 'plan-has-errors', message: 'the plan has errors (listed above); nothing was applied'})
    return out
  }
  if (opts.noDelete && fromFile && plan.has_destructive) {
    out.push({
      severity: 'error',
      code: 'no-delete-refused',
      message: 'the saved plan replaces, deletes or invalidates cards, and --no-delete forbids it: make the plan with plan --no-delete --out FILE',
    })
    return out
  }
  if (plan.has_destructive && !opts.allowDestroy) {
    const cards = plan.changes.filter((c) => c.destructive).map((c) => `${c.address} (${c.action})`)
    out.push({
      severity: 'error',
      code: 'destroy-refused',
      message:
        `refusing to replace, delete or invalidate cards without --allow-destroy: ${cards.join(', ')}. ` +
        `Members who hold these cards lose them`,
    })
  }
  if (plan.has_irreversible && !opts.allowIrreversible && !fromFile) {
    const fields = plan.changes.flatMap((c) => c.irreversible_paths.map((p) => `${c.address} ${p}`))
    out.push({
      severity: 'error',
      code: 'irreversible-unacknowledged',
      message:
        `refusing to switch on display that can never be switched off without --allow-irreversible ` +
        `(or apply a plan saved with plan --out after reviewing it): ${fields.join(', ')}`,
    })
  }
  return out
}

async function checkStale(ws: Workspace, saved: SavedPlan, state: StateDocument | null, onProgress?: OnProgress): Promise<{diagnostics: Diagnostic[]; live: ReadonlyMap<Address, LiveRead>}> {
  const touched = new Set(saved.plan.changes.filter((c) => c.live_fingerprint).map((c) => c.address))
  // A refresh-only plan records live values: every card it accepts is read again, to refuse values nobody reviewed.
  if (saved.plan.mode === 'refresh-only') for (const d of saved.plan.drift) touched.add(d.address)
  const fingerprints = new Map<Address, string | 'gone'>()
  const prior = staleReasons(saved.plan, state ? {lineage: state.lineage, serial: state.serial} : null, fingerprints)
  if (prior.length > 0 || touched.size === 0) return {diagnostics: prior, live: new Map()}
  // GET, never list: the last check before apply writes reads each card the plan touches by itself.
  const {live, diagnostics} = await refreshLive(state, await ws.gateway(), {parallelism: 10, only: touched, strategy: 'get', ...(onProgress ? {onProgress} : {})})
  for (const [address, read] of live) fingerprints.set(address, read.status === 'gone' ? 'gone' : read.fingerprint)
  return {diagnostics: [...diagnostics, ...staleReasons(saved.plan, state ? {lineage: state.lineage, serial: state.serial} : null, fingerprints)], live}
}
