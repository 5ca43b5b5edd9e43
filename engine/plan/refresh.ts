import type {Address} from '../model/address.js'
import type {Diagnostic} from '../model/diagnostic.js'
import type {StateDocument} from '../model/state.js'
import type {DesiredCard, ImportRead, LiveRead} from './compute-plan.js'

export interface LiveReader {
  canRead(kind: string): boolean
  read(kind: string, remoteId: string, applied: Record<string, unknown>): Promise<LiveRead>
}

/**
 * Read the live object of every card in state that has an id, at most `parallelism` at a time (the client's rate
 * limiter paces the calls themselves). A card that cannot be read is an error diagnostic: planning against a guess
 * would be worse than not planning.
 */
export async function refreshLive(
  state: StateDocument | null,
  reader: LiveReader,
  parallelism: number,
  only?: ReadonlySet<Address>,
): Promise<{live: Map<Address, LiveRead>; diagnostics: Diagnostic[]}> {
  const live = new Map<Address, LiveRead>()
  const diagnostics: Diagnostic[] = []
  const todo = interleaveByKind(
    Object.entries(state?.resources ?? {}).filter(
      ([address, r]) => r.status === 'created' && r.remote_id && reader.canRead(r.kind) && (!only || only.has(address)),
    ),
    ([, r]) => r.kind,
  )
  let next = 0
  const worker = async () => {
    while (next < todo.length) {
      const [address, r] = todo[next++]!
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
    }
  }
  await Promise.all(Array.from({length: Math.max(1, Math.min(parallelism, todo.length))}, worker))
  diagnostics.sort((a, b) => (a.address! < b.address! ? -1 : 1))
  return {live, diagnostics}
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
  const todo = desired.filter((d) => reader.canRead(d.kind))
  let next = 0
  const worker = async () => {
    while (next < todo.length) {
      const d = todo[next++]!
      try {
        live.set(d.address, await reader.read(d.kind, d.metadata!.import_id!, d.spec))
      } catch (e) {
        live.set(d.address, {status: 'unreadable', detail: (e as Error).message})
      }
    }
  }
  await Promise.all(Array.from({length: Math.max(1, Math.min(parallelism, todo.length))}, worker))
  return live
}
