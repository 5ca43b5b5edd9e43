import {describe, expect, it} from 'vitest'
import {applyPlan, type ApplyEvent} from '../../../engine/apply/apply-plan.js'
import type {CardGateway} from '../../../engine/apply/gateway.js'
import type {Progress} from '../../../engine/model/progress.js'
import {emptyState} from '../../../engine/model/state.js'
import {changesSomething} from '../../../engine/plan/compute-plan.js'
import {StateManager} from '../../../engine/state/state-manager.js'
import {exampleCards, plan, wires} from '../plan/helpers.js'
import {ScriptedStore} from '../state/scripted-store.js'

describe('applyPlan progress', () => {
  it('counts cards finished of those to apply, and every remote call, failed ones included', async () => {
    const cards = exampleCards()
    const p = plan(cards, null)
    let created = 0
    const gateway: CardGateway = {
      read: async () => ({status: 'gone', detail: 'deleted'}),
      create: async () => {
        if (++created === 1) throw new Error('refused')
        return {remoteId: `card-${created}`}
      },
      patch: async () => ({}),
      uploadImage: async () => ({mediaUrl: 'https://media.example/1'}),
      setRights: async () => {},
      remove: async () => {},
      describeFailure: (e) => ({message: (e as Error).message, refused: true}),
      close: async () => {},
    }
    const seen: Progress[] = []
    const events: ApplyEvent[] = []
    const result = await applyPlan({
      plan: p,
      desired: new Map(cards.map((c) => [c.address, {spec: c.spec}])),
      state: new StateManager(new ScriptedStore(() => undefined), emptyState(p.lineage, '0.0.0')),
      gateway: async () => gateway,
      wires,
      parallelism: 2,
      failFast: false,
      onEvent: (e) => events.push(e),
      onProgress: (x) => seen.push({...x}),
    })
    const total = p.changes.filter(changesSomething).length
    const calls = events.filter((e) => e.type !== 'step-start').length
    expect(result.failed).toBe(1)
    expect(seen[0]).toEqual({done: 0, total, requests: 0})
    expect(seen.at(-1)).toEqual({done: total, total, requests: calls})
    // Never backwards.
    for (let i = 1; i < seen.length; i++) {
      expect(seen[i]!.done).toBeGreaterThanOrEqual(seen[i - 1]!.done)
      expect(seen[i]!.requests).toBeGreaterThanOrEqual(seen[i - 1]!.requests)
    }
  })
})
