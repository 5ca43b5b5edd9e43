import {describe, expect, it} from 'vitest'
import {closestAddresses, compilePattern, patternProblem, selectCards} from '../../../engine/plan/targeting.js'
import {appliedState, exampleCards} from './helpers.js'

const cards = exampleCards()

describe('address patterns', () => {
  const cases: Array<[pattern: string, address: string, matches: boolean]> = [
    ['MemberCard.coffee-member', 'MemberCard.coffee-member', true],
    ['MemberCard.coffee-member', 'MemberCard.coffee-member2', false],
    ['MemberCard.*', 'MemberCard.coffee-member', true],
    ['MemberCard.*', 'BrandMemberCard.fitness-basic', false],
    ['*.coffee-member', 'MemberCard.coffee-member', true],
    ['*.coffee-member', 'BrandMemberCard.coffee-member', true],
    ['BrandMemberCard.fitness-*', 'BrandMemberCard.fitness-plus', true],
    ['BrandMemberCard.fitness-*', 'BrandMemberCard.fitness-', true],
    ['BrandMemberCard.fitness-*', 'BrandMemberCard.yoga-plus', false],
    ['*Card.*', 'BrandMemberCard.x', true],
    ['MemberCard.store-0?', 'MemberCard.store-07', true],
    ['MemberCard.store-0?', 'MemberCard.store-0', false],
    ['MemberCard.store-0?', 'MemberCard.store-071', false],
    // Regular-expression characters are literal.
    ['MemberCard.a+b', 'MemberCard.a+b', true],
    ['MemberCard.a+b', 'MemberCard.aab', false],
    ['MemberCard.(x)', 'MemberCard.(x)', true],
    // The kind is matched against the part before the first dot, the name against the rest (names may hold dots).
    ['MemberCard.v1.*', 'MemberCard.v1.gold', true],
    ['*.gold', 'MemberCard.v1.gold', false],
    ['*.*.gold', 'MemberCard.v1.gold', true],
    ['*.v1.gold', 'MemberCard.v1.gold', true],
  ]
  it.each(cases)('%s matches %s: %s', (pattern, address, matches) => {
    expect(compilePattern(pattern).test(address)).toBe(matches)
  })

  it('refuses a pattern that is not Kind.glob', () => {
    expect(patternProblem('MemberCard')).toMatch(/is not a card address pattern: write Kind.name/)
    expect(patternProblem('*')).toMatch(/is not a card address pattern/)
    expect(patternProblem('.coffee')).toMatch(/no kind before the dot/)
    expect(patternProblem('MemberCard.')).toMatch(/no name after the dot/)
    expect(patternProblem('MemberCard.*')).toBeUndefined()
    expect(() => compilePattern('coffee-member')).toThrow(/Kind.name/)
  })

  it('suggests the closest addresses', () => {
    const all = cards.map((c) => c.address)
    expect(closestAddresses('MemberCard.cofee-member', all)[0]).toBe('MemberCard.coffee-member')
    expect(closestAddresses('BrandMemberCard.fitnes-*', all, 2).sort()).toEqual(['BrandMemberCard.fitness-basic', 'BrandMemberCard.fitness-plus'])
  })
})

describe('selectCards', () => {
  const state = appliedState(cards)

  it('selects nothing away and warns of nothing without patterns', () => {
    const s = selectCards(cards, state, [], [])
    expect(s.desired).toHaveLength(4)
    expect(s.state).toBe(state)
    expect(s.diagnostics).toEqual([])
  })

  it('keeps only targeted specs and state entries, and leaves the state document itself whole', () => {
    const s = selectCards(cards, state, ['BrandMemberCard.fitness-*'], [])
    expect(s.desired.map((d) => d.address)).toEqual(['BrandMemberCard.fitness-basic', 'BrandMemberCard.fitness-plus'])
    expect(Object.keys(s.state!.resources).sort()).toEqual(['BrandMemberCard.fitness-basic', 'BrandMemberCard.fitness-plus'])
    expect(s.state!.serial).toBe(state.serial)
    expect(s.state!.lineage).toBe(state.lineage)
    expect(s.state!.generations).toEqual(state.generations)
    expect(Object.keys(state.resources)).toHaveLength(4)
    expect(s.diagnostics.map((d) => [d.severity, d.code])).toEqual([['warning', 'targeting-in-effect']])
    expect(s.diagnostics[0]!.message).toMatch(/^Resource targeting is in effect \(--target BrandMemberCard\.fitness-\*\): the plan may be incomplete; it considers 2 of 4 cards/)
    expect(s.diagnostics[0]!.message).toContain('not routine use')
  })

  it('excludes remove cards from the targets, or from everything without targets', () => {
    expect(selectCards(cards, state, [], ['MemberCard.*']).desired.map((d) => d.name)).toEqual(['fitness-basic', 'fitness-plus'])
    expect(selectCards(cards, state, ['*.*'], ['*.fitness-plus', '*.bookstore-reader']).desired.map((d) => d.name)).toEqual(['fitness-basic', 'coffee-member'])
  })

  it('selects a card that is only in state (removed from config)', () => {
    const s = selectCards(cards.filter((c) => c.name !== 'bookstore-reader'), state, ['MemberCard.bookstore-reader'], [])
    expect(s.desired).toEqual([])
    expect(Object.keys(s.state!.resources)).toEqual(['MemberCard.bookstore-reader'])
    expect(s.diagnostics.filter((d) => d.severity === 'error')).toEqual([])
  })

  it('a pattern that matches no card is an error naming it and the closest addresses', () => {
    const s = selectCards(cards, state, ['MemberCard.cofee-member'], ['Nope.*'])
    const errors = s.diagnostics.filter((d) => d.severity === 'error')
    expect(errors.map((d) => d.code)).toEqual(['target-matches-nothing', 'exclude-matches-nothing'])
    expect(errors[0]!.message).toMatch(/^--target MemberCard\.cofee-member matches no card in the specs or the state; the closest addresses are MemberCard\.coffee-member, /)
    expect(errors[1]!.message).toMatch(/^--exclude Nope\.\* matches no card/)
    expect(s.desired).toEqual([])
  })

  it('a pattern over an empty project says there are no cards', () => {
    const s = selectCards([], null, ['MemberCard.*'], [])
    expect(s.state).toBeNull()
    expect(s.diagnostics[0]!.message).toContain('there are no cards at all')
  })
})
