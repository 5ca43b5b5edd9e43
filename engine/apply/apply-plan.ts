import type {Address} from '../model/address.js'
import type {OnProgress} from '../model/progress.js'
import {assertNever, type Plan, type ResourceChange, type Step} from '../model/plan.js'
import type {ResourceState} from '../model/state.js'
import {sha256Hex, type ImageFile} from '../model/image.js'
import {withMediaUrls} from '../plan/images.js'
import {fingerprint, valuesEqual} from '../diff/values.js'
import {changesSomething, type KindWire} from '../plan/compute-plan.js'
import {nextRecord, type CardMetadata, type NextRecord} from '../plan/state-record.js'
import {interleaveByKind} from '../plan/refresh.js'
import type {StateManager} from '../state/state-manager.js'
import type {CardGateway, RemoteFailure} from './gateway.js'

export type ApplyEvent =
  | {type: 'step-start'; address: Address; op: Step['op']}
  /**
   * `remoteId` is the card the step acted on: the new card for a create, and for the removal that ends a
   * replacement the old card (not the change's new one).
   */
  | {type: 'step-done'; address: Address; op: Step['op']; remoteId?: string; ms: number; file?: string}
  /** `remoteId` as for step-done, when the card is known (a failed create has none). */
  | {type: 'step-failed'; address: Address; op: Step['op']; remoteId?: string; failure: RemoteFailure; file?: string}

export interface ApplyOptions {
  plan: Plan
  /** Desired specs (and the metadata apply records, such as lifecycle) by address: what each change brings the card to. */
  desired: ReadonlyMap<Address, DesiredSpec>
  state: StateManager
  /** Opened on the first remote call, so an apply that only updates state starts no connection (or emulator). */
  gateway: () => Promise<CardGateway>
  wires: ReadonlyMap<string, KindWire>
  parallelism: number
  failFast: boolean
  /** When aborted (first Ctrl-C), no new card is started; calls in flight finish and are recorded. */
  signal?: AbortSignal
  onEvent?: (e: ApplyEvent) => void
  /** Told after every remote call and every card finished: cards done of the cards to apply, and calls made. */
  onProgress?: OnProgress
  now?: () => string
  /**
   * The bytes of a local image to upload (plan steps name it by project-relative path and sha256). Apply checks the
   * sha256 again: a file changed since the plan fails its card.
   */
  readImage?: (image: ImageFile) => Promise<Uint8Array>
}

export interface DesiredSpec {
  spec: Record<string, unknown>
  metadata?: CardMetadata
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
  stateWriteFailure?: StateWriteFailure
}

export interface StateWriteFailure {
  message: string
  code?: string
  lastSerial?: number
  /**
   * The cards this apply changed at WeChat Pay whose change the stored state does not hold (the writes that carried
   * it failed), sorted by address. Empty when every change is recorded (e.g. only the final compaction failed).
   */
  unrecorded: UnrecordedCard[]
}

/**
 * A card changed at WeChat Pay but not recorded: what happened to it, and what the stored state says of it, which
 * decides how the next run finds it. `created` with `recorded: 'creating'` (same out_request_no): the next apply
 * repeats the create with that out_request_no and the API answers with this card. `recorded: 'absent'`: nothing
 * stored leads to the card; it is adopted with `cardform import ADDRESS CARD_ID` (or metadata.import_id).
 */
export interface UnrecordedCard {
  address: Address
  action: ResourceChange['action']
  change: 'created' | 'imported' | 'changed' | 'removed'
  remote_id: string
  out_request_no?: string
  recorded: 'absent' | 'creating' | 'created'
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
    opts.plan.changes.filter(changesSomething),
    (c) => c.kind,
  )
  const outcomes: ApplyOutcome[] = []
  let stop = false
  const total = queue.length
  let requests = 0
  const progress = () => opts.onProgress?.({done: outcomes.length, total, requests})
  // Every step that ends (done or failed) was one remote call.
  const onEvent = (e: ApplyEvent) => {
    opts.onEvent?.(e)
    if (e.type !== 'step-start') {
      requests++
      progress()
    }
  }
  const withEvents: ApplyRun = {...opts, onEvent, upload: uploader(opts, now)}
  progress()

  const worker = async () => {
    for (;;) {
      const change = queue.shift()
      if (!change) return
      // Once the state cannot be written, no new card is started: nothing it did could be recorded.
      if (stop || opts.signal?.aborted || opts.state.writeFailure) {
        outcomes.push({address: change.address, action: change.action, status: 'skipped'})
        progress()
        continue
      }
      // A state write outside a remote step (forgetting a card, a no-op's sync) fails the card, not the whole apply.
      const outcome = await applyChange(withEvents, change, now).catch(
        (e: unknown): ApplyOutcome => ({address: change.address, action: change.action, status: 'failed', failure: {message: (e as Error).message ?? String(e), refused: false}}),
      )
      outcomes.push(outcome)
      progress()
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
    ...(writeFailure ? {stateWriteFailure: describeWriteFailure(writeFailure, opts.state, outcomes)} : {}),
  }
}

function describeWriteFailure(e: Error, state: StateManager, outcomes: readonly ApplyOutcome[]): StateWriteFailure {
  const code = (e as {code?: unknown}).code
  const actions = new Map(outcomes.map((o) => [o.address, o.action]))
  return {
    message: e.message,
    ...(typeof code === 'string' ? {code} : {}),
    ...(state.writes > 0 ? {lastSerial: state.doc.serial} : {}),
    unrecorded: state.unrecorded().flatMap(({address, recorded, current}): UnrecordedCard[] => {
      const stored = recorded ? recorded.status : 'absent'
      const action = actions.get(address) ?? 'update'
      if (current?.status === 'created' && current.remote_id) {
        const same = recorded?.status === 'created' && recorded.remote_id === current.remote_id
        const change = same ? 'changed' : action === 'import' ? 'imported' : 'created'
        return [{address, action, change, remote_id: current.remote_id, out_request_no: current.out_request_no, recorded: stored}]
      }
      // Removed at WeChat Pay (deleted, invalidated) or forgotten, while state still records the card.
      if (!current && recorded?.status === 'created' && recorded.remote_id) {
        return [{address, action, change: 'removed', remote_id: recorded.remote_id, recorded: stored}]
      }
      // A create journaled in memory only, or still of unknown outcome: no card is known to exist.
      return []
    }),
  }
}

/** The state entry `nextRecord` computes, written onto `r`. */
function record(r: ResourceState, rec: NextRecord): void {
  r.applied = structuredClone(rec.applied)
  r.write_only = structuredClone(rec.write_only)
  if (rec.one_way) r.one_way = structuredClone(rec.one_way)
  else delete r.one_way
  if (rec.lifecycle) r.lifecycle = structuredClone(rec.lifecycle)
  else delete r.lifecycle
}

function recordDiffers(r: ResourceState, rec: NextRecord): boolean {
  return (
    !valuesEqual(r.applied, rec.applied) ||
    !valuesEqual(r.write_only, rec.write_only) ||
    !valuesEqual(r.one_way ?? {}, rec.one_way ?? {}) ||
    !valuesEqual(r.lifecycle ?? {}, rec.lifecycle ?? {})
  )
}

/** Apply's options plus the upload of images, shared by the cards of one apply. */
type ApplyRun = ApplyOptions & {upload: (image: ImageFile) => Promise<string>}

/**
 * Uploads each image at most once per apply (cards that share an image wait for the one upload) and never when state
 * already records its sha256. The URL is recorded in state as soon as the upload returns.
 */
function uploader(opts: ApplyOptions, now: () => string): (image: ImageFile) => Promise<string> {
  const inFlight = new Map<string, Promise<string>>()
  return (image) => {
    const known = opts.state.doc.media?.[image.sha256]
    if (known) return Promise.resolve(known.media_url)
    let pending = inFlight.get(image.sha256)
    if (!pending) {
      pending = (async () => {
        if (!opts.readImage) throw new Error(`${image.file}: this apply cannot read image files`)
        const bytes = await opts.readImage(image)
        const sha256 = sha256Hex(bytes)
        if (sha256 !== image.sha256) {
          throw new Error(`${image.file} changed since the plan (sha256 ${sha256.slice(0, 12)}…, the plan has ${image.sha256.slice(0, 12)}…); plan again`)
        }
        const gateway = await opts.gateway()
        const {mediaUrl} = await gateway.uploadImage({filename: uploadFilename(image), bytes, sha256})
        const doc = opts.state.doc
        ;(doc.media ??= {})[sha256] = {media_url: mediaUrl, file: image.file, bytes: bytes.length, uploaded_at: now()}
        await opts.state.persistMedia(sha256)
        return mediaUrl
      })()
      inFlight.set(image.sha256, pending)
      // A failed upload may be tried again by the next card that needs the image.
      pending.catch(() => inFlight.delete(image.sha256))
    }
    return pending
  }
}

/** The file's own name with the extension of the format its header shows (the upload API reads the extension). */
function uploadFilename(image: ImageFile): string {
  const base = image.file.split('/').pop() ?? 'image'
  const stem = base.includes('.') ? base.slice(0, base.lastIndexOf('.')) : base
  return `${stem || 'image'}.${image.format}`
}

async function applyChange(opts: ApplyRun, change: ResourceChange, now: () => string): Promise<ApplyOutcome> {
  const {state} = opts
  const wire = opts.wires.get(change.kind)!
  const desired = opts.desired.get(change.address)
  const doc = state.doc
  const base: Omit<ApplyOutcome, 'status'> = {address: change.address, action: change.action}

  // Images first: every later step of the card (and what state records) uses their URLs.
  const urls = new Map<string, string>()
  for (const step of change.steps) {
    if (step.op !== 'upload') continue
    const started = Date.now()
    const known = doc.media?.[step.image.sha256]
    if (!known) opts.onEvent?.({type: 'step-start', address: change.address, op: 'upload'})
    try {
      urls.set(step.image.sha256, await opts.upload(step.image))
      if (!known) opts.onEvent?.({type: 'step-done', address: change.address, op: 'upload', ms: Date.now() - started, file: step.image.file})
    } catch (e) {
      const failure = (await opts.gateway()).describeFailure(e)
      opts.onEvent?.({type: 'step-failed', address: change.address, op: 'upload', failure, file: step.image.file})
      return {...base, status: 'failed', failedStep: 'upload', failure}
    }
  }
  const mediaUrl = (sha: string) => urls.get(sha) ?? doc.media?.[sha]?.media_url
  const spec = desired?.spec && withMediaUrls(desired.spec, mediaUrl)

  // A move (metadata.moved_from) only renames the state entry; it is recorded before anything else.
  if (change.moved_from && doc.resources[change.moved_from] && !doc.resources[change.address]) {
    const moved = doc.resources[change.moved_from]!
    delete doc.resources[change.moved_from]
    doc.resources[change.address] = {...moved, name: change.name, updated_at: now()}
    // The count goes with the card and stays at the old address too: a card later created under the old name must
    // never derive the moved card's out_request_no (as `state mv` and `state rm` keep it).
    const g = doc.generations[change.moved_from]
    if (g !== undefined) doc.generations[change.address] = Math.max(g, doc.generations[change.address] ?? 0)
    await state.persist(change.moved_from, change.address)
  }
  const prior = doc.resources[change.address] ? structuredClone(doc.resources[change.address]!) : undefined
  // What state records once the change is made: for an existing card, from its current entry (ignore_changes fields
  // keep their recorded values); for a card this change creates, from the spec alone.
  const creates = change.steps.some((s) => s.op === 'create')
  const rec = spec ? nextRecord(wire, spec, desired?.metadata, creates ? undefined : prior) : undefined
  let current = doc.resources[change.address]?.status === 'created' ? doc.resources[change.address]?.remote_id : undefined

  if (change.action === 'forget') {
    delete doc.resources[change.address]
    await state.persist(change.address)
    return {...base, status: 'done'}
  }
  if (change.action === 'import' && rec) {
    // Recorded before its PATCHes: the card exists whatever happens next. Fields this change is about to set are
    // left out of `applied`, so if a PATCH fails the next plan still shows them as changes in config.
    const pending = new Set(change.field_changes.map((c) => c.path.split(/[.[]/)[0]!))
    const applied = Object.fromEntries(Object.entries(rec.applied).filter(([k]) => !pending.has(k)))
    const write_only = Object.fromEntries(Object.entries(rec.write_only).filter(([k]) => !pending.has(k)))
    const generation = (doc.generations[change.address] ?? 0) + 1
    doc.resources[change.address] = {
      kind: change.kind,
      name: change.name,
      status: 'created',
      remote_id: change.remote_id!,
      out_request_no: 'imported',
      generation,
      applied,
      write_only,
      ...(change.live_fingerprint ? {live_fingerprint: change.live_fingerprint} : {}),
      ...(rec.lifecycle ? {lifecycle: rec.lifecycle} : {}),
      updated_at: now(),
    }
    doc.generations[change.address] = generation
    current = change.remote_id
    await state.persist(change.address)
  }

  if (change.steps.length === 0) {
    if (change.action === 'delete' || change.action === 'invalidate') {
      delete doc.resources[change.address] // gone outside cardform: forget it
      await state.persist(change.address)
    } else {
      const r = doc.resources[change.address]
      if (r && rec && r.status === 'created' && recordDiffers(r, rec)) {
        record(r, rec)
        r.updated_at = now()
        await state.persist(change.address)
      }
    }
    return {...base, status: 'done', ...(current ? {remoteId: current} : {})}
  }

  const gateway = await opts.gateway()
  for (const planned of change.steps) {
    if (planned.op === 'upload') continue // done before the other steps
    const step = withMediaUrls(planned, mediaUrl)
    const started = Date.now()
    // What a create's journal replaced, to put back if the API refuses the create outright.
    const beforeJournal = doc.resources[change.address]
    // The card this step acted on, for its progress line: the change's card, except for the removal of a replaced
    // card, which acts on the old one (the change's card is by then the new one).
    let actedOn: string | undefined
    // Set once the remote call succeeded: a failure after it is state's, and the card holds the change.
    let made = false
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
            applied: (resumed ? prev?.applied : rec?.applied) ?? {},
            write_only: {},
            create_body: step.body,
            ...(deposedId ? {deposed: deposedId} : {}),
            ...(rec?.lifecycle ? {lifecycle: rec.lifecycle} : {}),
            updated_at: now(),
          }
          doc.resources[change.address] = entry
          doc.generations[change.address] = Math.max(doc.generations[change.address] ?? 0, generation)
          await state.persist(change.address)
          const created = await gateway.create(change.kind, step.body, step.out_request_no)
          made = true
          current = created.remoteId
          actedOn = created.remoteId
          entry.status = 'created'
          entry.remote_id = created.remoteId
          delete entry.create_body
          if (created.live) entry.live_fingerprint = fingerprint(created.live)
          entry.updated_at = now()
          await state.persist(change.address)
          break
        }
        case 'patch': {
          const id = requireId(current, change)
          const patched = await gateway.patch(change.kind, id, step.body)
          made = true
          actedOn = id
          const r = doc.resources[change.address]!
          if (rec) r.applied = structuredClone(rec.applied)
          if (patched.live) r.live_fingerprint = fingerprint(patched.live)
          r.updated_at = now()
          await state.persist(change.address)
          break
        }
        case 'rights': {
          const id = requireId(current, change)
          await gateway.setRights(change.kind, id, step.body)
          made = true
          actedOn = id
          const r = doc.resources[change.address]!
          if (rec) r.write_only = structuredClone(rec.write_only)
          r.updated_at = now()
          await state.persist(change.address)
          break
        }
        case 'delete':
        case 'invalidate': {
          const target = step.remote_id ?? requireId(current, change)
          actedOn = target
          await gateway.remove(change.kind, target, step.op, step.op === 'invalidate' ? step.body : {})
          made = true
          const r = doc.resources[change.address]
          if (r?.deposed === target) delete r.deposed
          else if (r && (r.remote_id === target || !step.remote_id)) delete doc.resources[change.address]
          await state.persist(change.address)
          break
        }
        default:
          assertNever(step)
      }
      actedOn ??= current
      opts.onEvent?.({type: 'step-done', address: change.address, op: step.op, ...(actedOn ? {remoteId: actedOn} : {}), ms: Date.now() - started})
    } catch (e) {
      const failure: RemoteFailure = made
        ? {message: `the ${step.op} was made${current || actedOn ? ` (card ${actedOn ?? current})` : ''}, but recording it in state failed: ${(e as Error).message ?? String(e)}`, refused: false}
        : gateway.describeFailure(e)
      if (step.op === 'create' && failure.refused && doc.resources[change.address]?.status === 'creating') {
        // The API refused the create, so no card exists: drop the journal rather than leave an outcome to resume.
        if (beforeJournal) doc.resources[change.address] = beforeJournal
        else delete doc.resources[change.address]
        await state.persist(change.address)
      }
      if (step.op !== 'create') actedOn ??= current
      opts.onEvent?.({type: 'step-failed', address: change.address, op: step.op, ...(actedOn ? {remoteId: actedOn} : {}), failure})
      return {...base, status: 'failed', failedStep: step.op, failure, ...(current ? {remoteId: current} : {})}
    }
  }
  const r = doc.resources[change.address]
  if (change.reason !== 'create-interrupted' && rec && r?.status === 'created' && recordDiffers(r, rec)) {
    // Fields the spec stopped setting (the API cannot clear them) are no longer managed; lifecycle and one-way
    // memory as the plan showed.
    record(r, rec)
    r.updated_at = now()
    await state.persist(change.address)
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
