import {describe, expect, it} from 'vitest'
import {annotateDrift, computeRefreshOnlyPlan} from '../../../engine/plan/refresh-only.js'
import {planValidatorFn} from '../../../engine/plan/saved-plan.js'
import type {LiveRead} from '../../../engine/plan/compute-plan.js'
import {appliedState, card, exampleCards, liveOf, plan, wires, withSpec} from './helpers.js'

const cards = exampleCards()
const allLive = () => new Map<string, LiveRead>(cards.map((c) => [c.address, liveOf(c)]))

function refreshOnly(state = appliedState(cards), live = allLive()) {
  return annotateDrift(
    computeRefreshOnlyPlan({state, lineage: state.lineage, live, refreshed: true, wires, version: '0.0.0', now: '2026-11-23T00:00:00.000Z'}),
    live,
  )
}

function expectValid(p: unknown) {
  const v = planValidatorFn()
  expect(v(p), JSON.stringify(v.errors)).toBe(true)
}

describe('refresh-only plan', () => {
  it('has no drift and no change when the live cards match state', () => {
    const p = refreshOnly()
    expect(p.mode).toBe('refresh-only')
    expect(p.changes).toEqual([])
    expect(p.drift).toEqual([])
    expect(p.has_changes).toBe(false)
    expect(p.has_drift).toBe(false)
    expect(p.applyable).toBe(true)
    expectValid(p)
  })

  it('shows a field changed outside cardform as drift with the live fingerprint, and plans no change', () => {
    const live = allLive()
    const basic = card(cards, 'fitness-basic')
    const read = liveOf(basic, (o) => (o.card_title = '别人改的名字'))
    live.set(basic.address, read)
    const p = refreshOnly(appliedState(cards), live)
    expect(p.drift).toEqual([
      {
        address: basic.address,
        kind: 'BrandMemberCard',
        name: 'fitness-basic',
        type: 'modified',
        remote_id: 'id-fitness-basic',
        field_changes: [{path: 'card_title', before: '动力健身会员', after: '别人改的名字', source: 'drift'}],
        live_fingerprint: read.status === 'found' ? read.fingerprint : '',
      },
    ])
    expect(p.changes).toEqual([])
    expect(p.has_changes).toBe(true)
    expect(p.has_drift).toBe(true)
    expect(p.summary).toMatchObject({create: 0, update: 0, replace: 0, delete: 0, invalidate: 0, no_op: 0, state_only: 1})
    expect(p.diagnostics).toEqual([])
    expectValid(p)
  })

  it('a one-way switch turned on in the console is drift to record, not a reversal error', () => {
    const live = allLive()
    const reader = card(cards, 'bookstore-reader')
    live.set(reader.address, liveOf(reader, (o) => (o.balance_information = {need_balance: true})))
    const state = appliedState([...cards.filter((c) => c !== reader), withSpec(reader, (s) => (s.balance_information = {need_balance: false}))])
    const p = refreshOnly(state, live)
    expect(p.drift.map((d) => d.field_changes.map((f) => f.path))).toEqual([['balance_information.need_balance']])
    expect(p.diagnostics).toEqual([])
    expect(p.applyable).toBe(true)
  })

  it('a card deleted outside cardform is drift of type deleted, with a warning saying apply --refresh-only forgets it', () => {
    const live = allLive()
    const reader = card(cards, 'bookstore-reader')
    live.set(reader.address, {status: 'gone', detail: 'status DELETED'})
    const p = refreshOnly(appliedState(cards), live)
    expect(p.drift).toEqual([{address: reader.address, kind: 'MemberCard', name: 'bookstore-reader', type: 'deleted', remote_id: 'id-bookstore-reader', field_changes: []}])
    expect(p.diagnostics.map((d) => [d.code, d.message])).toEqual([
      ['deleted-outside', 'MemberCard.bookstore-reader: card id-bookstore-reader was deleted outside cardform; apply --refresh-only removes it from state'],
    ])
    expectValid(p)
  })

  it('ignores an interrupted create (no live card yet) and cards not read', () => {
    const state = appliedState(cards)
    state.resources['MemberCard.coffee-member']!.status = 'creating'
    const live = allLive()
    live.delete('BrandMemberCard.fitness-plus')
    const p = refreshOnly(state, live)
    expect(p.drift).toEqual([])
    expect(p.diagnostics).toEqual([])
  })

  it('a normal plan carries the same drift, with the live fingerprint once annotated', () => {
    const live = allLive()
    const basic = card(cards, 'fitness-basic')
    live.set(basic.address, liveOf(basic, (o) => (o.card_title = '别人改的名字')))
    const normal = annotateDrift(plan(cards, appliedState(cards), live), live)
    expect(normal.has_drift).toBe(true)
    expect(normal.drift).toEqual(refreshOnly(appliedState(cards), live).drift)
  })
})
