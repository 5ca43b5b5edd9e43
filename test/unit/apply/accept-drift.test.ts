import {describe, expect, it} from 'vitest'
import {acceptDrift} from '../../../engine/apply/accept-drift.js'
import {annotateDrift, computeRefreshOnlyPlan} from '../../../engine/plan/refresh-only.js'
import type {LiveRead} from '../../../engine/plan/compute-plan.js'
import type {StateDocument} from '../../../engine/model/state.js'
import {appliedState, card, exampleCards, liveOf, plan, wires} from '../plan/helpers.js'

const cards = exampleCards()
const NOW = '2026-11-24T00:00:00.000Z'

function refreshOnly(state: StateDocument, live: Map<string, LiveRead>) {
  return annotateDrift(computeRefreshOnlyPlan({state, lineage: state.lineage, live, refreshed: true, wires, version: '0.0.0', now: NOW}), live)
}

/** State as applied, live as given by `edits` (per card name), the refresh-only plan, then acceptance. */
function accept(edits: Record<string, ((o: Record<string, unknown>) => void) | 'gone'>) {
  const state = appliedState(cards)
  const live = new Map<string, LiveRead>(
    cards.map((c) => {
      const e = edits[c.name]
      return [c.address, e === 'gone' ? {status: 'gone', detail: 'status DELETED'} : liveOf(c, e)]
    }),
  )
  const before = structuredClone(state)
  const p = refreshOnly(state, live)
  const accepted = acceptDrift(state, p.drift, live, wires, NOW)
  return {state, before, live, plan: p, accepted}
}

describe('acceptDrift (apply --refresh-only)', () => {
  it('records each drifted field with its live value and the live fingerprint, and leaves other fields and cards alone', () => {
    const {state, before, live, accepted} = accept({'fitness-basic': (o) => ((o.card_title = '别人改的名字'), (o.service_phone = '021-0000-0000'))})
    expect(accepted).toEqual({modified: ['BrandMemberCard.fitness-basic'], removed: []})
    const r = state.resources['BrandMemberCard.fitness-basic']!
    const old = before.resources['BrandMemberCard.fitness-basic']!
    expect(r.applied).toEqual({...old.applied, card_title: '别人改的名字', service_phone: '021-0000-0000'})
    expect(r.write_only).toEqual(old.write_only)
    const read = live.get('BrandMemberCard.fitness-basic')!
    expect(r.live_fingerprint).toBe(read.status === 'found' ? read.fingerprint : 'unreachable')
    expect(r.updated_at).toBe(NOW)
    for (const a of ['BrandMemberCard.fitness-plus', 'MemberCard.coffee-member', 'MemberCard.bookstore-reader']) {
      expect(state.resources[a]).toEqual(before.resources[a])
    }
    // The live values are now what cardform applied last time: no drift any more.
    expect(refreshOnly(state, live).drift).toEqual([])
  })

  it('takes a keyed list whole from the live card, though its drift is shown per item', () => {
    const {state, live, plan: p} = accept({
      'fitness-plus': (o) => {
        const ui = o.user_information as {custom_field_list: Array<Record<string, unknown>>}
        ui.custom_field_list = [{type: 'CHECK_BOX', name: '感兴趣的课程', values: ['瑜伽']}, {type: 'TEXT', name: '常去门店'}]
      },
    })
    expect(p.drift[0]!.field_changes.map((f) => f.path).sort()).toEqual([
      'user_information.custom_field_list[name=常去门店]',
      'user_information.custom_field_list[name=感兴趣的课程]',
    ])
    expect(state.resources['BrandMemberCard.fitness-plus']!.applied.user_information).toEqual({
      common_field_list: ['USER_FORM_FLAG_NAME'],
      custom_field_list: [{type: 'CHECK_BOX', name: '感兴趣的课程', values: ['瑜伽']}, {type: 'TEXT', name: '常去门店'}],
    })
    expect(refreshOnly(state, live).drift).toEqual([])
  })

  it('removes a field the live card no longer has, and the object it leaves empty', () => {
    const {state, live} = accept({'bookstore-reader': (o) => delete o.additional_statement})
    expect(state.resources['MemberCard.bookstore-reader']!.applied).not.toHaveProperty('additional_statement')
    expect(refreshOnly(state, live).drift).toEqual([])
  })

  it('forgets a card deleted outside cardform but keeps its generation', () => {
    const {state, before, accepted} = accept({'bookstore-reader': 'gone'})
    expect(accepted).toEqual({modified: [], removed: ['MemberCard.bookstore-reader']})
    expect(state.resources).not.toHaveProperty('MemberCard.bookstore-reader')
    expect(state.generations['MemberCard.bookstore-reader']).toBe(before.generations['MemberCard.bookstore-reader'])
    expect(Object.keys(state.resources)).toHaveLength(3)
  })

  it('remembers a one-way switch seen on in the live card', () => {
    const state = appliedState(cards)
    const coffee = state.resources['MemberCard.coffee-member']!
    coffee.applied = structuredClone(coffee.applied)
    ;(coffee.applied.balance_information as Record<string, unknown>).need_balance = false // as if applied off
    const live = new Map<string, LiveRead>(cards.map((c) => [c.address, liveOf(c)])) // the live card has it on
    const p = refreshOnly(state, live)
    expect(p.drift.map((d) => d.field_changes.map((f) => f.path))).toEqual([['balance_information.need_balance']])
    acceptDrift(state, p.drift, live, wires, NOW)
    expect(coffee.applied).toHaveProperty('balance_information.need_balance', true)
    expect(coffee.one_way).toEqual({'balance_information.need_balance': true})
    // A field cardform never set is someone else's: not drift, nothing recorded.
    const reader = accept({'bookstore-reader': (o) => (o.balance_information = {need_balance: true})})
    expect(reader.plan.drift).toEqual([])
    expect(reader.state.resources['MemberCard.bookstore-reader']!.one_way).toBeUndefined()
  })

  it('changes nothing when there is no drift, and skips a card whose state entry moved since', () => {
    const {state, before, accepted} = accept({})
    expect(accepted).toEqual({modified: [], removed: []})
    expect(state).toEqual(before)

    const s = appliedState(cards)
    const basic = card(cards, 'fitness-basic')
    const live = new Map<string, LiveRead>([[basic.address, liveOf(basic, (o) => (o.card_title = 'x'))]])
    const p = refreshOnly(s, live)
    s.resources[basic.address]!.remote_id = 'id-replaced-since'
    expect(acceptDrift(s, p.drift, live, wires, NOW)).toEqual({modified: [], removed: []})
  })

  it('after acceptance a normal plan shows the spec value as a change in config', () => {
    const {state, live} = accept({'fitness-basic': (o) => (o.card_title = '别人改的名字')})
    const c = plan(cards, state, live).changes.find((x) => x.name === 'fitness-basic')!
    expect(c).toMatchObject({action: 'update', reason: 'changed-in-config'})
    expect(c.field_changes).toEqual([{path: 'card_title', before: '别人改的名字', after: '动力健身会员', source: 'config'}])
  })
})
