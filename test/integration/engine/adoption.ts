import {expect} from 'vitest'
import type {QueryResult} from '../../../engine/adopt/query-live.js'
import type {Plan} from '../../../engine/model/plan.js'
import type {TestProject} from './project.js'

/** The emulator's request counts by route (`GET /v3/…/cards`), for asserting which calls a command made. */
export function routeCounts(p: TestProject): Record<string, number> {
  return {...p.emulator.admin.stats().by_route}
}

/** Requests per route made between two snapshots, without the routes that saw none. */
export function routeDelta(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const delta: Record<string, number> = {}
  for (const [route, n] of Object.entries(after)) if (n - (before[route] ?? 0) > 0) delta[route] = n - (before[route] ?? 0)
  return delta
}

/**
 * The round trip `cardform query --out` promises once metadata.import_id is planned and applied (the import feature):
 * the specs it wrote into the project's cards directory plan as imports only, applying them makes no card-changing
 * call and records each card in state under its new address, and then nothing is left to change and query finds
 * nothing more. `found` is the `query --json` result that wrote the files.
 */
export async function expectAdoptionPlansClean(p: TestProject, found: QueryResult): Promise<void> {
  const imported = new Map(found.cards.map((c) => [`${c.kind}.${c.name}`, c.card_id]))
  const planned = await p.cli(['plan', '--json'])
  const plan = JSON.parse(planned.stdout) as Plan
  expect(plan.applyable, planned.stderr).toBe(true)
  const ofImported = plan.changes.filter((c) => imported.has(c.address))
  expect(ofImported.map((c) => [c.address, c.action, c.remote_id]).sort()).toEqual(
    [...imported].map(([address, cardId]) => [address, 'import', cardId]).sort(),
  )
  // A spec made from the live card has nothing to change on it: no PATCH after the import.
  for (const change of ofImported) expect(change.field_changes, change.address).toEqual([])
  expect(plan.changes.filter((c) => !imported.has(c.address) && c.action !== 'no-op')).toEqual([])

  const before = routeCounts(p)
  const applied = await p.cli(['apply', '--auto-approve'])
  expect(applied.code, applied.stdout + applied.stderr).toBe(0)
  const calls = Object.keys(routeDelta(before, routeCounts(p)))
  expect(calls.filter((route) => !route.startsWith('GET '))).toEqual([])
  const state = p.state()
  for (const [address, cardId] of imported) expect(state.resources[address]?.remote_id, address).toBe(cardId)

  const again = await p.cli(['plan', '--detailed-exitcode'])
  expect(again.code, again.stdout + again.stderr).toBe(0)
  const rerun = JSON.parse((await p.cli(['query', '--json'])).stdout) as QueryResult
  expect(rerun.cards).toEqual([])
  expect(rerun.skipped.filter((s) => s.reason === 'in-state').map((s) => s.card_id)).toEqual(expect.arrayContaining([...imported.values()]))
}
