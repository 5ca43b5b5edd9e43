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

  it('a checkpoint carries the entries of the addresses named since the last one, copied when the write starts', async () => {
    const store = new ScriptedStore(() => undefined, true)
    const m = new StateManager(store, doc(5))
    m.doc.generations['MemberCard.a'] = 1
    m.doc.generations['MemberCard.b'] = 1
    m.doc.generations['MemberCard.untouched'] = 9
    const first = m.persist('MemberCard.a')
    // Joins the next write: the first one has started and took only MemberCard.a.
    m.doc.generations['MemberCard.a'] = 2
    const second = m.persist('MemberCard.a', 'MemberCard.b')
    await Promise.all([first, second])
    expect(store.written).toEqual([])
    expect(store.appended).toEqual([
      {lineage: 'L1', serial: 6, resources: {'MemberCard.a': null}, generations: {'MemberCard.a': 1}},
      {lineage: 'L1', serial: 7, resources: {'MemberCard.a': null, 'MemberCard.b': null}, generations: {'MemberCard.a': 2, 'MemberCard.b': 1}},
    ])
    expect(m.doc.serial).toBe(7)
  })

  it('after a failed checkpoint the next write carries the whole document', async () => {
    const store = new ScriptedStore((n) => (n === 1 ? lockLost() : undefined), true)
    const m = new StateManager(store, doc(5))
    m.doc.generations['MemberCard.a'] = 1
    await expect(m.persist('MemberCard.a')).rejects.toThrow(/lost/)
    m.doc.generations['MemberCard.b'] = 1
    await m.persist('MemberCard.b')
    expect(store.appended).toEqual([])
    expect(store.written.map((d) => [d.serial, d.generations])).toEqual([[7, {'MemberCard.a': 1, 'MemberCard.b': 1}]])
    await m.persist('MemberCard.b')
    expect(store.appended.map((c) => c.serial)).toEqual([8])
    expect(m.writeFailure).toBeUndefined()
  })
})
