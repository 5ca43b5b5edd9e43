import {randomUUID} from 'node:crypto'
import type {Address} from './model/address.js'
import type {Diagnostic} from './model/diagnostic.js'
import type {Plan} from './model/plan.js'
import {emptyState, type StateDocument} from './model/state.js'
import {applyPlan, type ApplyEvent, type ApplyResult, type DesiredSpec} from './apply/apply-plan.js'
import {computePlan, type DesiredCard, type ImportRead} from './plan/compute-plan.js'
import {importsToRead, readImports, refreshLive} from './plan/refresh.js'
import {readSavedPlan, staleReasons, writeSavedPlan, type SavedPlan} from './plan/saved-plan.js'
import {StateManager} from './state/state-manager.js'
import {packageVersion} from './providers/wechatpay/client.js'
import type {Workspace} from './workspace.js'

export interface PlanOptions {
  refresh: boolean
  /** --no-delete: removals and replacements are listed as skipped, never planned. */
  noDelete?: boolean
  parallelism: number
  lock: boolean
  lockTimeoutMs: number
  /** Write the plan (with its desired specs) here for `apply FILE`. */
  out?: string
}

export interface PlanRun {
  plan: Plan
  desired: DesiredCard[]
  state: StateDocument | null
}

/** Refresh and plan. Holds the state lock while reading, unless told not to. */
export async function runPlan(ws: Workspace, opts: PlanOptions): Promise<PlanRun> {
  const lock = opts.lock ? await ws.store.lock('plan', opts.lockTimeoutMs) : undefined
  try {
    const run = await planWithState(ws, await ws.store.read(), opts)
    if (opts.out) await writeSavedPlan(opts.out, toSaved(run))
    return run
  } finally {
    if (lock) await ws.store.unlock(lock.id)
  }
}

async function planWithState(ws: Workspace, state: StateDocument | null, opts: {refresh: boolean; parallelism: number; noDelete?: boolean}): Promise<PlanRun> {
  let live = new Map()
  let imports = new Map<Address, ImportRead>()
  const diagnostics: Diagnostic[] = []
  if (opts.refresh && state && Object.keys(state.resources).length > 0) {
    const refreshed = await refreshLive(state, await ws.gateway(), opts.parallelism)
    live = refreshed.live
    diagnostics.push(...refreshed.diagnostics)
  }
  const wanted = importsToRead(ws.desired, state)
  if (opts.refresh && wanted.length > 0) {
    imports = await readImports(wanted, await ws.gateway(), opts.parallelism)
  }
  const plan = computePlan({
    imports,
    ...(opts.noDelete ? {noDelete: true} : {}),
    desired: ws.desired,
    state,
    lineage: state?.lineage ?? randomUUID(),
    live,
    refreshed: opts.refresh,
    wires: ws.wires,
    version: packageVersion(),
    now: new Date().toISOString(),
  })
  if (diagnostics.length) {
    plan.diagnostics.unshift(...diagnostics)
    plan.applyable = !plan.diagnostics.some((d) => d.severity === 'error')
  }
  return {plan, desired: ws.desired, state}
}

function toSaved(run: PlanRun): SavedPlan {
  return {
    file_format: 'cardform-saved-plan',
    plan: run.plan,
    desired: run.desired.map((d) => ({address: d.address, kind: d.kind, name: d.name, spec: d.spec, ...(d.metadata && Object.keys(d.metadata).length ? {metadata: d.metadata} : {})})),
  }
}

export interface ApplyOptions {
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
}

export interface ApplyRun {
  plan: Plan
  /** Why nothing was applied, when apply refused; empty otherwise. */
  refused: Diagnostic[]
  result?: ApplyResult
  /** The state after apply (serial and lineage for the summary). */
  state?: StateDocument
}

/**
 * Apply a saved plan, or plan and apply. Everything happens under the state lock; the gates (errors, stale plan,
 * destruction, irreversible switches, approval) are checked before the first remote call.
 */
export async function runApply(ws: Workspace, opts: ApplyOptions): Promise<ApplyRun> {
  const lock = await ws.store.lock('apply', opts.lockTimeoutMs)
  try {
    const state = await ws.store.read()
    let plan: Plan
    let desired: Map<Address, DesiredSpec>
    const refused: Diagnostic[] = []
    const fromFile = opts.planFile !== undefined
    if (opts.planFile) {
      const saved = await readSavedPlan(opts.planFile)
      plan = saved.plan
      desired = new Map(saved.desired.map((d) => [d.address, {spec: d.spec, ...(d.metadata ? {metadata: d.metadata} : {})}]))
      refused.push(...(await checkStale(ws, saved, state)))
      opts.onPlan?.(plan)
    } else {
      const run = await planWithState(ws, state, {refresh: opts.refresh, parallelism: opts.parallelism, ...(opts.noDelete ? {noDelete: true} : {})})
      plan = run.plan
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
      ...(opts.signal ? {signal: opts.signal} : {}),
      ...(opts.onEvent ? {onEvent: opts.onEvent} : {}),
    })
    if (!state && doc.serial === 0) await manager.persist() // a first apply with nothing to do still records the state
    return {plan, refused, result, state: doc}
  } finally {
    await ws.store.unlock(lock.id)
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

async function checkStale(ws: Workspace, saved: SavedPlan, state: StateDocument | null): Promise<Diagnostic[]> {
  const touched = new Set(saved.plan.changes.filter((c) => c.live_fingerprint).map((c) => c.address))
  const fingerprints = new Map<Address, string | 'gone'>()
  const prior = staleReasons(saved.plan, state ? {lineage: state.lineage, serial: state.serial} : null, fingerprints)
  if (prior.length > 0 || touched.size === 0) return prior
  const {live, diagnostics} = await refreshLive(state, await ws.gateway(), 10, touched)
  for (const [address, read] of live) fingerprints.set(address, read.status === 'gone' ? 'gone' : read.fingerprint)
  return [...diagnostics, ...staleReasons(saved.plan, state ? {lineage: state.lineage, serial: state.serial} : null, fingerprints)]
}
