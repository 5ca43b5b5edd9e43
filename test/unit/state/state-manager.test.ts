import {describe, expect, it} from 'vitest'
import {emptyState, type StateDocument} from '../../../engine/model/state.js'
import {StateManager} from '../../../engine/state/state-manager.js'
import {lockLost, ScriptedStore} from './scripted-store.js'

function doc(serial: number): StateDocument {
  return {...emptyState('L1', '0.0.0'), serial}
}

describe('StateManager', () => {
  it('advances the serial by one for every write', async () => {
    const store = new ScriptedStore(() => undefined)
    const m = new StateManager(store, doc(5))
    await m.persist()
    await m.persist()
    expect(store.written.map((d) => d.serial)).toEqual([6, 7])
    expect(m.doc.serial).toBe(7)
    expect(m.writeFailure).toBeUndefined()
  })

  it('keeps the serial of the last write that succeeded when a write fails, and records the failure', async () => {
    const store = new ScriptedStore((n) => (n === 2 ? lockLost() : undefined))
    const m = new StateManager(store, doc(5))
    await m.persist()
    await expect(m.persist()).rejects.toThrow(/lost/)
    expect(m.doc.serial).toBe(6)
    expect(store.written.at(-1)!.serial).toBe(6)
    expect(m.writeFailure).toMatchObject({code: 'lock-lost'})
  })

  it('never reuses the serial of a failed write (it may have landed), and a later write clears the failure', async () => {
    const store = new ScriptedStore((n) => (n === 1 ? lockLost() : undefined))
    const m = new StateManager(store, doc(5))
    await expect(m.persist()).rejects.toThrow(/lost/)
    expect(m.doc.serial).toBe(5)
    await m.persist()
    expect(store.written.map((d) => d.serial)).toEqual([7])
    expect(m.doc.serial).toBe(7)
    expect(m.writeFailure).toBeUndefined()
  })

  it('a write that fails while another is queued: both callers see their own outcome; the serial is the last written', async () => {
    const store = new ScriptedStore((n) => (n === 2 ? lockLost() : undefined))
    const m = new StateManager(store, doc(0))
    const outcomes = await Promise.allSettled([m.persist(), m.persist(), m.persist()])
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'rejected'])
    expect(m.doc.serial).toBe(store.written.at(-1)!.serial)
  })
})
