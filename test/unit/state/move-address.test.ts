import {describe, expect, it} from 'vitest'
import type {StateDocument} from '../../../engine/model/state.js'
import {StateError} from '../../../engine/state/errors.js'
import {moveAddress} from '../../../engine/state/move-address.js'
import {appliedState, exampleCards} from '../plan/helpers.js'

function state(): StateDocument {
  const s = appliedState(exampleCards())
  s.generations['MemberCard.coffee-member'] = 2
  s.resources['MemberCard.coffee-member']!.generation = 2
  return s
}

function refusal(from: string, to: string, s: StateDocument | null = state()): StateError {
  try {
    moveAddress(s, from, to)
  } catch (e) {
    expect(e).toBeInstanceOf(StateError)
    return e as StateError
  }
  throw new Error('moveAddress did not refuse')
}

describe('moveAddress', () => {
  it('moves the entry and its generation to the new address, renaming it, and leaves the input untouched', () => {
    const before = state()
    const copy = structuredClone(before)
    const {state: after, moved} = moveAddress(before, 'MemberCard.coffee-member', 'MemberCard.coffee-gold')
    expect(before).toEqual(copy)
    expect(after.resources['MemberCard.coffee-member']).toBeUndefined()
    expect(moved).toEqual({...before.resources['MemberCard.coffee-member'], name: 'coffee-gold'})
    expect(after.resources['MemberCard.coffee-gold']).toEqual(moved)
    expect(after.generations['MemberCard.coffee-gold']).toBe(2)
    // The old address keeps its count: a new card under it never repeats the moved card's out_request_no.
    expect(after.generations['MemberCard.coffee-member']).toBe(2)
    expect(after.serial).toBe(before.serial)
    expect(Object.keys(after.resources).sort()).toEqual(
      ['BrandMemberCard.fitness-basic', 'BrandMemberCard.fitness-plus', 'MemberCard.bookstore-reader', 'MemberCard.coffee-gold'],
    )
  })

  it('keeps the higher generation when the new address had cards before', () => {
    const s = state()
    s.generations['MemberCard.coffee-gold'] = 5 // three cards named coffee-gold came and went
    expect(moveAddress(s, 'MemberCard.coffee-member', 'MemberCard.coffee-gold').state.generations['MemberCard.coffee-gold']).toBe(5)
  })

  it.each([
    ['FROM not in state', 'MemberCard.nope', 'MemberCard.other', 'state-not-found', 'MemberCard.nope is not in state'],
    ['TO already in state', 'MemberCard.coffee-member', 'MemberCard.bookstore-reader', 'state-address-taken', 'MemberCard.bookstore-reader is already in state (card id-bookstore-reader)'],
    ['a kind change', 'MemberCard.coffee-member', 'BrandMemberCard.coffee-member', 'state-kind-mismatch', 'a card cannot change kind (MemberCard → BrandMemberCard)'],
    ['TO without a name', 'MemberCard.coffee-member', 'MemberCard', 'address-invalid', 'TO "MemberCard" is not a card address'],
    ['TO with an upper-case name', 'MemberCard.coffee-member', 'MemberCard.Coffee', 'address-invalid', 'TO "MemberCard.Coffee" is not a card address'],
    ['TO ending in a dot', 'MemberCard.coffee-member', 'MemberCard.coffee.', 'address-invalid', 'TO "MemberCard.coffee." is not a card address'],
    ['a name over 63 characters', 'MemberCard.coffee-member', `MemberCard.${'a'.repeat(64)}`, 'address-invalid', 'is not a card address'],
    ['FROM with a bad kind', 'Member-Card.x', 'MemberCard.y', 'address-invalid', 'FROM "Member-Card.x" is not a card address'],
  ])('refuses %s', (_, from, to, code, message) => {
    const e = refusal(from, to)
    expect(e.code).toBe(code)
    expect(e.message).toContain(message)
  })

  it('refuses when there is no state at all', () => {
    expect(refusal('MemberCard.a', 'MemberCard.b', null).code).toBe('state-not-found')
  })
})
