import {describe, expect, it} from 'vitest'
import {emptyState, type ResourceState, type StateDocument} from '../../../engine/model/state.js'
import {StateError} from '../../../engine/state/errors.js'
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

  it('after a failed write, names each address whose change the store lacks, with what the store holds and what memory holds', async () => {
    // Writes 1 and 2 succeed; 3 on fail (a full disk).
    const store = new ScriptedStore((n) => (n >= 3 ? new StateError('no space', 'state-io') : undefined), true)
    const start = doc(5)
    start.resources['MemberCard.kept'] = entry('created', 'card-kept', 'orn-kept')
    start.resources['MemberCard.gone'] = entry('created', 'card-gone', 'orn-gone')
    const m = new StateManager(store, start)
    // A create journaled (recorded), then made (not recorded); an update and a removal, not recorded.
    m.doc.resources['MemberCard.new'] = entry('creating', undefined, 'orn-new')
    await m.persist('MemberCard.new')
    m.doc.resources['MemberCard.done'] = entry('created', 'card-done', 'orn-done')
    await m.persist('MemberCard.done')
    expect(m.unrecorded()).toEqual([])
    m.doc.resources['MemberCard.new'] = entry('created', 'card-new', 'orn-new')
    await expect(m.persist('MemberCard.new')).rejects.toThrow(/no space/)
    m.doc.resources['MemberCard.kept']!.applied = {title: 'changed'}
    delete m.doc.resources['MemberCard.gone']
    await expect(m.persist('MemberCard.kept', 'MemberCard.gone')).rejects.toThrow(/no space/)
    expect(m.unrecorded()).toEqual([
      {address: 'MemberCard.gone', recorded: {status: 'created', remote_id: 'card-gone', out_request_no: 'orn-gone'}, current: null},
      {address: 'MemberCard.kept', recorded: {status: 'created', remote_id: 'card-kept', out_request_no: 'orn-kept'}, current: {status: 'created', remote_id: 'card-kept', out_request_no: 'orn-kept'}},
      {address: 'MemberCard.new', recorded: {status: 'creating', out_request_no: 'orn-new'}, current: {status: 'created', remote_id: 'card-new', out_request_no: 'orn-new'}},
    ])
  })

  it('a later whole write that succeeds records what the failed ones carried: nothing is left unrecorded', async () => {
    const store = new ScriptedStore((n) => (n === 1 ? new StateError('no space', 'state-io') : undefined), true)
    const m = new StateManager(store, doc(5))
    m.doc.resources['MemberCard.a'] = entry('created', 'card-a', 'orn-a')
    await expect(m.persist('MemberCard.a')).rejects.toThrow(/no space/)
    expect(m.unrecorded().map((u) => u.address)).toEqual(['MemberCard.a'])
    await m.persist('MemberCard.b')
    expect(store.written.at(-1)!.resources['MemberCard.a']).toMatchObject({remote_id: 'card-a'})
    expect(m.writeFailure).toBeUndefined()
    expect(m.unrecorded()).toEqual([])
  })
})

function entry(status: ResourceState['status'], remoteId: string | undefined, orn: string): ResourceState {
  return {kind: 'MemberCard', name: 'x', status, ...(remoteId ? {remote_id: remoteId} : {}), out_request_no: orn, generation: 1, applied: {}, write_only: {}, updated_at: '2026-01-01T00:00:00Z'}
}
