import {describe, expect, it} from 'vitest'
import type {Progress} from '../../../engine/model/progress.js'
import {emptyState, type StateDocument} from '../../../engine/model/state.js'
import {refreshLive, type LivePage, type LiveReader} from '../../../engine/plan/refresh.js'

/** `n` MemberCards in state with ids id-0 … id-(n-1). */
function stateOf(n: number): StateDocument {
  const state = emptyState('lineage-test', '0.0.0')
  for (let i = 0; i < n; i++) {
    state.resources[`MemberCard.c${i}`] = {
      kind: 'MemberCard',
      name: `c${i}`,
      status: 'created',
      remote_id: `id-${i}`,
      out_request_no: `no-${i}`,
      generation: 1,
      applied: {},
      write_only: {},
      updated_at: '2025-01-01T00:00:00Z',
    }
  }
  return state
}

function expectSteadyProgress(seen: Progress[], total: number, requests: number): void {
  expect(seen[0]).toEqual({done: 0, total, requests: 0})
  expect(seen.at(-1)).toEqual({done: total, total, requests})
  for (let i = 1; i < seen.length; i++) {
    expect(seen[i]!.done).toBeGreaterThanOrEqual(seen[i - 1]!.done)
    expect(seen[i]!.requests).toBe(seen[i - 1]!.requests + 1)
  }
}

describe('refreshLive progress', () => {
  it('by GET: one request per card, failed ones included, from 0 to the total', async () => {
    const state = stateOf(7)
    let calls = 0
    const reader: LiveReader = {
      canRead: () => true,
      read: async () => {
        if (++calls === 2) throw new Error('boom')
        return {status: 'gone', detail: 'deleted'}
      },
    }
    const seen: Progress[] = []
    const {diagnostics} = await refreshLive(state, reader, {parallelism: 3, strategy: 'get', onProgress: (p) => seen.push(p)})
    expect(diagnostics).toHaveLength(1)
    expectSteadyProgress(seen, 7, 7)
    expect(seen.map((p) => p.done)).toEqual([0, 1, 2, 3, 4, 5, 6, 7])
  })

  it('by list: a page counts the cards it shows live; those it shows gone or not at all count after their GET', async () => {
    const state = stateOf(45)
    const listed = Array.from({length: 45}, (_, i) => i).filter((i) => i !== 44) // id-44 is not listed
    const reader: LiveReader = {
      canRead: () => true,
      read: async () => ({status: 'gone', detail: 'deleted'}),
      listingOf: () => ({}),
      listPage: async (_kind, _scope, page): Promise<LivePage> => ({
        cards: listed.slice(page * 20, page * 20 + 20).map((i) => ({remoteId: `id-${i}`, object: {card_id: `id-${i}`}, ...(i === 3 ? {gone: 'deleted'} : {})})),
        total: listed.length,
        pageSize: 20,
      }),
    }
    const seen: Progress[] = []
    const {live} = await refreshLive(state, reader, {parallelism: 2, strategy: 'list', onProgress: (p) => seen.push(p)})
    expect(live.size).toBe(45)
    // 3 pages, then a GET for id-3 (listed gone) and id-44 (not listed).
    expectSteadyProgress(seen, 45, 5)
    expect(seen[1]!.done).toBe(19)
  })
})
