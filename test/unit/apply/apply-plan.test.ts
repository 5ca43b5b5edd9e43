import {describe, expect, it} from 'vitest'
import {applyPlan} from '../../../engine/apply/apply-plan.js'
import type {CardGateway} from '../../../engine/apply/gateway.js'
import type {ApplyRun} from '../../../engine/operations.js'
import {StateManager} from '../../../engine/state/state-manager.js'
import {emptyState} from '../../../engine/model/state.js'
import {renderApplySummary} from '../../../cli/render/apply-human.js'
import {plainStyle} from '../../../cli/render/style.js'
import {exampleCards, plan, wires} from '../plan/helpers.js'
import {lockLost, ScriptedStore} from '../state/scripted-store.js'

/** A gateway whose every call succeeds, counting the creates. */
function fakeGateway() {
  let created = 0
  const gateway: CardGateway = {
    read: async () => ({status: 'gone'}) as never,
    create: async () => ({remoteId: `card-${++created}`}),
    patch: async () => ({}),
    uploadImage: async () => ({mediaUrl: 'https://media.example/1'}),
    setRights: async () => {},
    remove: async () => {},
    describeFailure: (e) => ({message: (e as Error).message, refused: false}),
    close: async () => {},
  }
  return {gateway, created: () => created}
}

describe('applyPlan when the state cannot be written', () => {
  it('stops starting cards and reports the error and the last serial written, not the serial it tried', async () => {
    const cards = exampleCards()
    const p = plan(cards, null)
    // Writes 1-2 succeed (the first card's journal and its created entry); then the lock is lost.
    const store = new ScriptedStore((n) => (n > 2 ? lockLost() : undefined))
    const doc = emptyState(p.lineage, '0.0.0')
    const {gateway, created} = fakeGateway()
    const result = await applyPlan({
      plan: p,
      desired: new Map(cards.map((c) => [c.address, {spec: c.spec}])),
      state: new StateManager(store, doc),
      gateway: async () => gateway,
      wires,
      parallelism: 1,
      failFast: false,
    })
    const lastWritten = store.written.at(-1)!.serial
    expect(lastWritten).toBe(2)
    expect(doc.serial).toBe(lastWritten)
    expect(result.stateWriteFailure).toMatchObject({code: 'lock-lost', lastSerial: 2})
    expect(result.failed).toBe(1)
    expect(result.skipped).toBe(cards.length - 2)
    expect(created()).toBe(1) // the second card's journal was refused, so its POST was never sent

    const run: ApplyRun = {plan: p, refused: [], result, state: doc}
    const summary = renderApplySummary(run, plainStyle)
    expect(summary).toContain('error[lock-lost]: the state could not be written: the lock 1234 on state at scripted was lost')
    expect(summary).toContain('The last state this apply wrote is serial 2')
    expect(summary).toContain('2 skipped (the state could not be written)')
    expect(summary).not.toMatch(/State serial/)
  })

  it('says so when no state was written at all', async () => {
    const cards = exampleCards()
    const p = plan(cards, null)
    const store = new ScriptedStore(() => lockLost())
    const doc = emptyState(p.lineage, '0.0.0')
    const {gateway} = fakeGateway()
    const result = await applyPlan({
      plan: p,
      desired: new Map(cards.map((c) => [c.address, {spec: c.spec}])),
      state: new StateManager(store, doc),
      gateway: async () => gateway,
      wires,
      parallelism: 2,
      failFast: false,
    })
    expect(result.stateWriteFailure).toMatchObject({code: 'lock-lost'})
    expect(result.stateWriteFailure?.lastSerial).toBeUndefined()
    const summary = renderApplySummary({plan: p, refused: [], result, state: doc}, plainStyle)
    expect(summary).toContain('This apply wrote no state.')
    expect(summary).not.toMatch(/State serial/)
  })
})
