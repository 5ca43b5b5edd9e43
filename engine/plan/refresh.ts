import type {Address} from '../model/address.js'
import type {Diagnostic} from '../model/diagnostic.js'
import type {OnProgress} from '../model/progress.js'
import type {ResourceState, StateDocument} from '../model/state.js'
import {fingerprint} from '../diff/values.js'
import type {DesiredCard, ImportRead, LiveRead} from './compute-plan.js'

export interface LiveReader {
  canRead(kind: string): boolean
  read(kind: string, remoteId: string, applied: Record<string, unknown>): Promise<LiveRead>
  /** Which listing holds the card (see listPage); undefined when it cannot be found by list. Absent: GET only. */
  listingOf?(kind: string, applied: Record<string, unknown>): ListingScope | undefined
  /** Page `page` (from 0) of the listing. */
  listPage?(kind: string, scope: ListingScope, page: number): Promise<LivePage>
}

/** What one list call is limited to: the brand partner family lists one brand at a time. */
export interface ListingScope {
  brandId?: string
}

/** One page of a listing. `gone` says why a listed card no longer counts (deleted, invalidated). */
export interface LivePage {
  cards: {remoteId: string; object: Record<string, unknown>; gone?: string}[]
  /** Cards in the whole listing (total_count), managed by cardform or not. */
  total: number
  pageSize: number
}

/**
 * How refresh reads: `auto` lists where that takes fewer requests than one GET per card; `get` and `list` force one
 * way (saved-plan staleness checks use `get`; tests and benchmarks compare the two).
 */
export type RefreshStrategy = 'auto' | 'get' | 'list'

export interface RefreshOptions {
  /** Requests in flight at most; the client's rate limiter paces the calls themselves. */
  parallelism: number
  /** Read only these cards (a saved plan's). */
  only?: ReadonlySet<Address>
  /** Default `auto`. */
  strategy?: RefreshStrategy
  /** Told after every request (GET or list page): cards whose live value is known, of all to read, and requests made. */
  onProgress?: OnProgress
}

type Entry = [Address, ResourceState]

/** The cards of state in one listing, and what its pages showed (card_id → listed card). */
interface Listing {
  kind: string
  scope: ListingScope
  cards: Entry[]
  listed: Map<string, LivePage['cards'][number]>
  /** total_count of the first page; undefined until it is read, or when it could not be. */
  total?: number
  pageSize?: number
}

/**
 * Read the live object of every card in state that has an id. A card that cannot be read is an error diagnostic:
 * planning against a guess would be worse than not planning.
 *
 * Two ways to read, with the same result (a list item is the record GET returns; see the gateway's listPage):
 * one GET per card, or the list pages of each listing (the merchant's membercard-open cards; one brand's brand partner
 * cards), 20 cards a page. The cost model, per listing: the first page is read when the listing holds two cards or
 * more (for one card a GET is never worse); its total_count says how many pages the rest would take, and the rest is
 * listed when that is fewer requests than a GET for each managed card the first page did not show, read by GET
 * otherwise (a few cards among many, as a --target plan has). A card the list does not show as live (missing, deleted,
 * invalidated) is read with GET before the plan believes it gone: a card can be skipped when the list shifts between
 * pages (a record offset moves when a card before it leaves the listing), and a page that failed leaves its cards to
 * GET too.
 *
 * Requests go out at most `parallelism` at a time, interleaved by kind so that each API family's rate bucket stays busy.
 */
export async function refreshLive(
  state: StateDocument | null,
  reader: LiveReader,
  options: RefreshOptions,
): Promise<{live: Map<Address, LiveRead>; diagnostics: Diagnostic[]}> {
  const {parallelism, only} = options
  const strategy = options.strategy ?? 'auto'
  const live = new Map<Address, LiveRead>()
  const diagnostics: Diagnostic[] = []
  const cards = Object.entries(state?.resources ?? {}).filter(
    ([address, r]) => r.status === 'created' && r.remote_id && reader.canRead(r.kind) && (!only || only.has(address)),
  )
  // Progress: a card is done once its GET returned (or failed) or a page listed it live (a card listed as gone is
  // done after the GET that confirms it).
  const finished = new Set<Address>()
  let requests = 0
  const addressOf = options.onProgress ? new Map(cards.map(([address, r]) => [r.remote_id!, address])) : undefined
  const progress = () => options.onProgress?.({done: finished.size, total: cards.length, requests})
  progress()
  const read = async ([address, r]: Entry) => {
    try {
      live.set(address, await reader.read(r.kind, r.remote_id!, r.applied))
    } catch (e) {
      diagnostics.push({
        severity: 'error',
        code: 'refresh-failed',
        message: `${address}: cannot read card ${r.remote_id}: ${(e as Error).message}`,
        address,
      })
    }
    requests++
    finished.add(address)
    progress()
  }
  const page = async (l: Listing, n: number) => {
    try {
      const p = await reader.listPage!(l.kind, l.scope, n)
      if (n === 0) [l.total, l.pageSize] = [p.total, p.pageSize]
      for (const card of p.cards) {
        l.listed.set(card.remoteId, card)
        const address = addressOf?.get(card.remoteId)
        if (address && !card.gone) finished.add(address)
      }
    } catch {
      // Its cards are not listed, so they are read with GET below.
    }
    requests++
    progress()
  }

  const {listings, unlisted} = strategy === 'get' ? {listings: [], unlisted: cards} : groupListings(cards, reader)
  const get: Entry[] = [...unlisted]
  const probed = listings.filter((l) => strategy === 'list' || l.cards.length >= 2)
  for (const l of listings) if (!probed.includes(l)) get.push(...l.cards)
  await inParallel(probed.map((l) => () => page(l, 0)), parallelism)

  const pages: {kind: string; run: () => Promise<void>}[] = []
  for (const l of probed) {
    if (l.total === undefined) continue
    const rest = Math.ceil(l.total / l.pageSize!) - 1
    const unseen = l.cards.filter(([, r]) => !l.listed.has(r.remote_id!))
    if (strategy === 'list' || rest < unseen.length) for (let n = 1; n <= rest; n++) pages.push({kind: l.kind, run: () => page(l, n)})
    else get.push(...unseen)
  }
  const second = [...pages, ...get.map((e) => ({kind: e[1].kind, run: () => read(e)}))]
  await inParallel(interleaveByKind(second, (t) => t.kind).map((t) => t.run), parallelism)

  // What the pages showed live is read; the rest of each listing is confirmed with GET.
  const done = new Set(get)
  const confirm: Entry[] = []
  for (const l of probed) {
    for (const e of l.cards) {
      const [address, r] = e
      if (done.has(e)) continue
      const listed = l.listed.get(r.remote_id!)
      if (listed && !listed.gone) live.set(address, {status: 'found', object: listed.object, fingerprint: fingerprint(listed.object)})
      else confirm.push(e)
    }
  }
  await inParallel(interleaveByKind(confirm, ([, r]) => r.kind).map((e) => () => read(e)), parallelism)

  diagnostics.sort((a, b) => (a.address! < b.address! ? -1 : 1))
  return {live, diagnostics}
}

/** The cards of state by the listing that holds them; `unlisted` are those no list call can find. */
function groupListings(cards: readonly Entry[], reader: LiveReader): {listings: Listing[]; unlisted: Entry[]} {
  const listings = new Map<string, Listing>()
  const unlisted: Entry[] = []
  for (const e of cards) {
    const [, r] = e
    const scope = reader.listPage ? reader.listingOf?.(r.kind, r.applied) : undefined
    if (!scope) {
      unlisted.push(e)
      continue
    }
    const key = JSON.stringify([r.kind, scope.brandId ?? null])
    let l = listings.get(key)
    if (!l) listings.set(key, (l = {kind: r.kind, scope, cards: [], listed: new Map()}))
    l.cards.push(e)
  }
  return {listings: [...listings.values()], unlisted}
}

/** Run the tasks, at most `parallelism` at a time, in order. */
async function inParallel(tasks: readonly (() => Promise<void>)[], parallelism: number): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < tasks.length) await tasks[next++]!()
  }
  await Promise.all(Array.from({length: Math.max(1, Math.min(parallelism, tasks.length))}, worker))
}

/**
 * Order items round-robin by kind. Each API family has its own rate limit, so taking cards family after family would
 * leave one family's budget idle while the other's drains; interleaved, every family's bucket stays busy and the whole
 * refresh takes as long as the largest family needs at its rate.
 */
export function interleaveByKind<T>(items: readonly T[], kindOf: (item: T) => string): T[] {
  const groups = new Map<string, T[]>()
  for (const item of items) {
    const k = kindOf(item)
    let g = groups.get(k)
    if (!g) groups.set(k, (g = []))
    g.push(item)
  }
  const out: T[] = []
  const lists = [...groups.values()]
  for (let i = 0; out.length < items.length; i++) {
    for (const g of lists) if (i < g.length) out.push(g[i]!)
  }
  return out
}

/** The documents whose metadata.import_id must be read: those whose address state does not hold yet. */
export function importsToRead(desired: readonly DesiredCard[], state: StateDocument | null): DesiredCard[] {
  return desired.filter((d) => d.metadata?.import_id !== undefined && !state?.resources[d.address])
}

/**
 * Read the cards named by metadata.import_id (GET by card_id; the brand family needs the spec's brand_id). A card
 * that cannot be read (another merchant's or brand's, say) comes back `unreadable`, and the plan says so.
 */
export async function readImports(desired: readonly DesiredCard[], reader: LiveReader, parallelism: number): Promise<Map<Address, ImportRead>> {
  const live = new Map<Address, ImportRead>()
  const read = async (d: DesiredCard) => {
    try {
      live.set(d.address, await reader.read(d.kind, d.metadata!.import_id!, d.spec))
    } catch (e) {
      live.set(d.address, {status: 'unreadable', detail: (e as Error).message})
    }
  }
  await inParallel(desired.filter((d) => reader.canRead(d.kind)).map((d) => () => read(d)), parallelism)
  return live
}
