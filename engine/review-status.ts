import type {Address} from './model/address.js'
import type {Diagnostic} from './model/diagnostic.js'
import type {CardReview} from './model/plan.js'
import {collectReviews} from './plan/review.js'
import {refreshLive} from './plan/refresh.js'
import {selectCards} from './plan/targeting.js'
import type {Workspace} from './workspace.js'

/**
 * `cardform status`: the WeChat Pay review (审核) status of the cards in state, and optionally a wait until every
 * one is decided: the health check a pipeline runs after apply (Argo CD's health, for cards). Read-only: no lock, no
 * state write. Reads with the refresh machinery (list pages where cheaper than a GET per card).
 */

export interface StatusOptions {
  targets?: string[]
  excludes?: string[]
  parallelism: number
  /** Poll until no card is in review, or until `timeoutMs` has passed since the first read. */
  wait?: {timeoutMs: number; intervalMs: number}
  /** Injectable for tests. */
  sleep?: (ms: number) => Promise<void>
  now?: () => number
  /** Told after every read, with the cards still in review. */
  onPoll?: (pending: readonly CardReview[]) => void
}

/** The overall health: approved (or nothing to review), failed (some card failed review), in-review (some undecided). */
export type StatusHealth = 'approved' | 'failed' | 'in-review'

export interface StatusReport {
  /** Every reviewed card in state (kinds without review, and gone cards, are left out), in address order. */
  cards: CardReview[]
  health: StatusHealth
  /** With a wait: whether it ended because the timeout passed with cards still in review. */
  timed_out: boolean
  /** How many times the cards were read. */
  reads: number
  /** Cards that could not be read (an error each); the health is then not trusted. */
  diagnostics: Diagnostic[]
}

export async function readReviewStatus(ws: Workspace, opts: StatusOptions): Promise<StatusReport> {
  const now = opts.now ?? Date.now
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)))
  const state = await ws.store.read()
  const scope = selectCards(ws.desired, state, opts.targets ?? [], opts.excludes ?? [])
  const diagnostics: Diagnostic[] = [...scope.diagnostics]
  const cards = new Map<Address, CardReview>()
  const started = now()
  let reads = 0
  let only: ReadonlySet<Address> | undefined
  let timedOut = false
  for (;;) {
    if (scope.state && Object.keys(scope.state.resources).length > 0) {
      const read = await refreshLive(scope.state, await ws.gateway(), {parallelism: opts.parallelism, ...(only ? {only} : {})})
      reads++
      for (const r of collectReviews(scope.state, read.live, ws.wires)) cards.set(r.address, r)
      // A card in review that is gone now (deleted meanwhile) no longer counts.
      for (const [address, live] of read.live) if (live.status === 'gone') cards.delete(address)
      if (read.diagnostics.length) {
        diagnostics.push(...read.diagnostics)
        break
      }
    }
    const pending = [...cards.values()].filter((c) => c.status === 'in-review')
    opts.onPoll?.(pending)
    if (!opts.wait || pending.length === 0 || [...cards.values()].some((c) => c.status === 'failed')) break
    const left = opts.wait.timeoutMs - (now() - started)
    if (left <= 0) {
      timedOut = true
      break
    }
    await sleep(Math.min(opts.wait.intervalMs, left))
    only = new Set(pending.map((c) => c.address))
  }
  const list = [...cards.values()].sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0))
  const health: StatusHealth = list.some((c) => c.status === 'failed') ? 'failed' : list.some((c) => c.status === 'in-review') ? 'in-review' : 'approved'
  return {cards: list, health, timed_out: timedOut, reads, diagnostics}
}
