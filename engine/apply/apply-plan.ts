import type {Address} from '../model/address.js'
import {assertNever, type Plan, type ResourceChange, type Step} from '../model/plan.js'
import type {ResourceState} from '../model/state.js'
import {fingerprint, valuesEqual} from '../diff/values.js'
import {splitWriteOnly, type KindWire} from '../plan/compute-plan.js'
import {interleaveByKind} from '../plan/refresh.js'
import type {StateManager} from '../state/state-manager.js'
import type {CardGateway, RemoteFailure} from './gateway.js'

export type ApplyEvent =
  | {type: 'step-start'; address: Address; op: Step['op']}
  /**
   * `remoteId` is the card the step acted on: the new card for a create, and for the removal that ends a
   * replacement the old card (not the change's new one).
   */
  | {type: 'step-done'; address: Address; op: Step['op']; remoteId?: string; ms: number}
  /** `remoteId` as for step-done, when the card is known (a failed create has none). */
  | {type: 'step-failed'; address: Address; op: Step['op']; remoteId?: string; failure: RemoteFailure}

export interface ApplyOptions {
  plan: Plan
  /** Desired specs by address (what each change brings the card to). */
  desired: ReadonlyMap<Address, Record<string, unknown>>
  state: StateManager
  /** Opened on the first remote call, so an apply that only updates state starts no connection (or emulator). */
  gateway: () => Promise<CardGateway>
  wires: ReadonlyMap<string, KindWire>
  parallelism: number
  failFast: boolean
  /** When aborted (first Ctrl-C), no new card is started; calls in flight finish and are recorded. */
  signal?: AbortSignal
  onEvent?: (e: ApplyEvent) => void
  now?: () => string
}

export interface ApplyOutcome {
  address: Address
  action: ResourceChange['action']
  status: 'done' | 'failed' | 'skipped'
  remoteId?: string
  failedStep?: Step['op']
  failure?: RemoteFailure
}

export interface ApplyResult {
  outcomes: ApplyOutcome[]
  failed: number
  done: number
  skipped: number
  /** True when the run was interrupted (the signal fired) before every card was started. */
  interrupted: boolean
  /**
   * Set when the last state write failed (e.g. `lock-lost`): what happened since `lastSerial` is not recorded in
   * state, and no card was started after it. `lastSerial` is the last serial this apply wrote, absent when it wrote
   * none.
   */
  stateWriteFailure?: {message: string; code?: string; lastSerial?: number}
}

/**
 * Walk a plan's changes and make them so. Independent cards run in parallel (bounded); the state is persisted after
 * every remote call, and before a create (the journal), so that a crash at any instant leaves state truthful: a
 * card is never created twice (a resumed create repeats its out_request_no) and never lost.
 */
export async function applyPlan(opts: ApplyOptions): Promise<ApplyResult> {
  const now = opts.now ?? (() => new Date().toISOString())
  // Interleaved by kind so that every API family's rate budget is used at once (see interleaveByKind).
  const queue = interleaveByKind(
    opts.plan.changes.filter((c) => c.action !== 'no-op' || needsStateSync(opts, c)),
    (c) => c.kind,
  )
  const outcomes: ApplyOutcome[] = []
  let stop = false

  const worker = async () => {
    for (;;) {
      const change = queue.shift()
      if (!change) return
      // Once the state cannot be written, no new card is started: nothing it did could be recorded.
      if (stop || opts.signal?.aborted || opts.state.writeFailure) {
        outcomes.push({address: change.address, action: change.action, status: 'skipped'})
        continue
      }
      // A state write outside a remote step (forgetting a card, a no-op's sync) fails the card, not the whole apply.
      const outcome = await applyChange(opts, change, now).catch(
        (e: unknown): ApplyOutcome => ({address: change.address, action: change.action, status: 'failed', failure: {message: (e as Error).message ?? String(e), refused: false}}),
      )
      outcomes.push(outcome)
      if (outcome.status === 'failed' && opts.failFast) stop = true
    }
  }
  await Promise.all(Array.from({length: Math.max(1, Math.min(opts.parallelism, queue.length))}, worker))
  outcomes.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0))
  const writeFailure = opts.state.writeFailure
  return {
    outcomes,
    failed: outcomes.filter((o) => o.status === 'failed').length,
    done: outcomes.filter((o) => o.status === 'done').length,
    skipped: outcomes.filter((o) => o.status === 'skipped').length,
    interrupted: opts.signal?.aborted === true && outcomes.some((o) => o.status === 'skipped'),
    ...(writeFailure ? {stateWriteFailure: describeWriteFailure(writeFailure, opts.state)} : {}),
  }
}

function describeWriteFailure(e: Error, state: StateManager): NonNullable<ApplyResult['stateWriteFailure']> {
  const code = (e as {code?: unknown}).code
  return {
    message: e.message,
    ...(typeof code === 'string' ? {code} : {}),
    ...(state.writes > 0 ? {lastSerial: state.doc.serial} : {}),
  }
}

/** A no-op change whose state entry still records fields the spec stopped setting: forget them, no remote call. */
function needsStateSync(opts: ApplyOptions, c: ResourceChange): boolean {
  const r = opts.state.doc.resources[c.address]
  const spec = opts.desired.get(c.address)
  const wire = opts.wires.get(c.kind)
  if (!r || !spec || !wire || r.status !== 'created' || !opts.plan.applyable) return false
  const {readable, writeOnly} = splitWriteOnly(wire.lookup, spec)
  return c.action === 'no-op' && c.steps.length === 0 && (!valuesEqual(r.applied, readable) || !valuesEqual(r.write_only, writeOnly)) && !c.field_changes.length
}

async function applyChange(opts: ApplyOptions, change: ResourceChange, now: () => string): Promise<ApplyOutcome> {
  const {state} = opts
  const wire = opts.wires.get(change.kind)!
  const spec = opts.desired.get(change.address)
  const split = spec ? splitWriteOnly(wire.lookup, spec) : undefined
  const doc = state.doc
  let current = doc.resources[change.address]?.status === 'created' ? doc.resources[change.address]?.remote_id : undefined
  // In a replacement the change's card becomes the new one; remember the old one for the removal step.
  const base: Omit<ApplyOutcome, 'status'> = {address: change.address, action: change.action}

  if (change.steps.length === 0) {
    if (change.action === 'delete' || change.action === 'invalidate') {
      delete doc.resources[change.address] // gone outside cardform: forget it
    } else if (split) {
      const r = doc.resources[change.address]
      if (r) Object.assign(r, {applied: split.readable, write_only: split.writeOnly, updated_at: now()})
    }
    await state.persist()
    return {...base, status: 'done'}
  }

  const gateway = await opts.gateway()
  for (const step of change.steps) {
    const started = Date.now()
    // What a create's journal replaced, to put back if the API refuses the create outright.
    const beforeJournal = doc.resources[change.address]
    // The card this step acted on, for its progress line: the change's card, except for the removal of a replaced
    // card, which acts on the old one (the change's card is by then the new one).
    let actedOn: string | undefined
    opts.onEvent?.({type: 'step-start', address: change.address, op: step.op})
    try {
      switch (step.op) {
        case 'create': {
          // Journal first: if we die during the POST, the next apply repeats it with the same key and body.
          const prev = doc.resources[change.address]
          const generation = step.generation
          const resumed = prev?.status === 'creating' && prev.out_request_no === step.out_request_no
          // A replacement creates the new card first; the old one, which a later step of this change removes,
          // is recorded as deposed until then. (A card re-created after a deletion outside cardform has nothing to
          // remove: its old card is already gone.)
          const deposedId = change.steps.find(isRemoval)?.remote_id
          const entry: ResourceState = {
            kind: change.kind,
            name: change.name,
            status: 'creating',
            out_request_no: step.out_request_no,
            generation,
            // A resumed create sends the journaled body, so the card will hold the journaled spec: record that, and
            // a spec changed since shows in the next plan as a change in config (not as drift).
            applied: (resumed ? prev?.applied : split?.readable) ?? {},
            write_only: {},
            create_body: step.body,
            ...(deposedId ? {deposed: deposedId} : {}),
            updated_at: now(),
          }
          doc.resources[change.address] = entry
          doc.generations[change.address] = Math.max(doc.generations[change.address] ?? 0, generation)
          await state.persist()
          const created = await gateway.create(change.kind, step.body, step.out_request_no)
          current = created.remoteId
          entry.status = 'created'
          entry.remote_id = created.remoteId
          delete entry.create_body
          if (created.live) entry.live_fingerprint = fingerprint(created.live)
          entry.updated_at = now()
          await state.persist()
          break
        }
        case 'patch': {
          const patched = await gateway.patch(change.kind, requireId(current, change), step.body)
          const r = doc.resources[change.address]!
          if (split) r.applied = split.readable
          if (patched.live) r.live_fingerprint = fingerprint(patched.live)
          r.updated_at = now()
          await state.persist()
          break
        }
        case 'rights': {
          await gateway.setRights(change.kind, requireId(current, change), step.body)
          const r = doc.resources[change.address]!
          if (split) r.write_only = split.writeOnly
          r.updated_at = now()
          await state.persist()
          break
        }
        case 'delete':
        case 'invalidate': {
          const target = step.remote_id ?? requireId(current, change)
          actedOn = target
          await gateway.remove(change.kind, target, step.op, step.op === 'invalidate' ? step.body : {})
          const r = doc.resources[change.address]
          if (r?.deposed === target) delete r.deposed
          else if (r && (r.remote_id === target || !step.remote_id)) delete doc.resources[change.address]
          await state.persist()
          break
        }
        default:
          assertNever(step)
      }
      actedOn ??= current
      opts.onEvent?.({type: 'step-done', address: change.address, op: step.op, ...(actedOn ? {remoteId: actedOn} : {}), ms: Date.now() - started})
    } catch (e) {
      const failure = gateway.describeFailure(e)
      if (step.op === 'create' && failure.refused && doc.resources[change.address]?.status === 'creating') {
        // The API refused the create, so no card exists: drop the journal rather than leave an outcome to resume.
        if (beforeJournal) doc.resources[change.address] = beforeJournal
        else delete doc.resources[change.address]
        await state.persist()
      }
      if (step.op !== 'create') actedOn ??= current
      opts.onEvent?.({type: 'step-failed', address: change.address, op: step.op, ...(actedOn ? {remoteId: actedOn} : {}), failure})
      return {...base, status: 'failed', failedStep: step.op, failure, ...(current ? {remoteId: current} : {})}
    }
  }
  const r = doc.resources[change.address]
  if (change.reason !== 'create-interrupted' && split && r?.status === 'created' && (!valuesEqual(r.applied, split.readable) || !valuesEqual(r.write_only, split.writeOnly))) {
    // Fields the spec stopped setting (the API cannot clear them) are no longer managed.
    r.applied = split.readable
    r.write_only = split.writeOnly
    await state.persist()
  }
  return {...base, status: 'done', ...(current ? {remoteId: current} : {})}
}

function isRemoval(s: Step): s is Extract<Step, {op: 'delete' | 'invalidate'}> {
  return s.op === 'delete' || s.op === 'invalidate'
}

function requireId(id: string | undefined, change: ResourceChange): string {
  if (!id) throw new Error(`${change.address}: no card id to act on (the state has none)`)
  return id
}
