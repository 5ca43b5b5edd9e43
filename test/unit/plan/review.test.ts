import {describe, expect, it} from 'vitest'
import {collectReviews, reviewStatusOf} from '../../../engine/plan/review.js'
import type {LiveRead} from '../../../engine/plan/compute-plan.js'
import type {StateDocument} from '../../../engine/model/state.js'
import {wires} from './helpers.js'

const memberCard = wires.get('MemberCard')!
const brandCard = wires.get('BrandMemberCard')!

describe('reviewStatusOf', () => {
  it.each([
    ['NOT_APPROVE', 'in-review'],
    ['APPROVE_FAIL', 'failed'],
    ['APPROVED', 'approved'],
  ])('reads membercard-open status %s as %s', (status, expected) => {
    expect(reviewStatusOf(memberCard, {card_id: 'p1', status})).toEqual({status: expected, api_status: status})
  })

  it('has nothing to say of a deleted card, a card without status, or a kind without review', () => {
    expect(reviewStatusOf(memberCard, {card_id: 'p1', status: 'DELETED'})).toBeUndefined()
    expect(reviewStatusOf(memberCard, {card_id: 'p1'})).toBeUndefined()
    expect(reviewStatusOf(brandCard, {card_id: 'p1', state: 'CARD_EFFECTIVE'})).toBeUndefined()
  })
})

describe('collectReviews', () => {
  it('lists the found cards of reviewed kinds by address, with their state names and ids', () => {
    const entry = (kind: string, name: string, id: string) => ({kind, name, status: 'created' as const, remote_id: id, out_request_no: 'r', generation: 1, applied: {}, write_only: {}})
    const state = {
      resources: {
        'MemberCard.b': entry('MemberCard', 'b', 'pB'),
        'MemberCard.a': entry('MemberCard', 'a', 'pA'),
        'MemberCard.gone': entry('MemberCard', 'gone', 'pG'),
        'BrandMemberCard.c': entry('BrandMemberCard', 'c', 'pC'),
      },
    } as unknown as StateDocument
    const found = (object: Record<string, unknown>): LiveRead => ({status: 'found', object, fingerprint: 'sha256:x'})
    const live = new Map<string, LiveRead>([
      ['MemberCard.b', found({card_id: 'pB', status: 'APPROVE_FAIL'})],
      ['MemberCard.a', found({card_id: 'pA', status: 'NOT_APPROVE'})],
      ['MemberCard.gone', {status: 'gone', detail: 'status DELETED'}],
      ['BrandMemberCard.c', found({card_id: 'pC', state: 'CARD_EFFECTIVE'})],
    ])
    expect(collectReviews(state, live, wires)).toEqual([
      {address: 'MemberCard.a', kind: 'MemberCard', name: 'a', remote_id: 'pA', status: 'in-review', api_status: 'NOT_APPROVE'},
      {address: 'MemberCard.b', kind: 'MemberCard', name: 'b', remote_id: 'pB', status: 'failed', api_status: 'APPROVE_FAIL'},
    ])
  })
})
