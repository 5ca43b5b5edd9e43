import {describe, expect, it} from 'vitest'
import {baseName, kindPrefix, namePatternOf, proposeNames, slugify} from '../../../engine/adopt/spec-from-live.js'
import {KIND_NAMES, loadKindSchemas} from '../../../engine/model/schema-semantics.js'

const schemas = loadKindSchemas()
const pattern = namePatternOf(schemas.MemberCard)

describe('namePatternOf', () => {
  it('reads metadata.name pattern from every kind schema', () => {
    for (const kind of KIND_NAMES) expect(namePatternOf(schemas[kind]).source).toBe('^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$')
  })
})

describe('slugify', () => {
  it.each([
    ['VIP Gold 会员', 'vip-gold'],
    ['悦享咖啡会员卡', ''],
    ['ＶＩＰ卡', 'vip'], // fullwidth letters
    ['Café Crème', 'cafe-creme'],
    ['--Coffee__Club 2024!!', 'coffee-club-2024'],
    ['A卡', 'a'],
  ])('%s → "%s"', (title, slug) => {
    expect(slugify(title)).toBe(slug)
  })
})

describe('baseName', () => {
  it('uses the slug of a title with at least three ASCII letters or digits', () => {
    expect(baseName('MemberCard', 'pXv3K-2j1x9A', 'VIP会员')).toBe('vip')
  })

  it('falls back to the kind prefix and the last 8 letters or digits of the card_id for a Chinese title', () => {
    expect(baseName('MemberCard', 'pXv3K-2j1x9A', '悦享咖啡会员卡')).toBe('card-3k2j1x9a')
    expect(baseName('BrandMemberCard', 'pXv3K-2j1x9A', '动力健身会员')).toBe('brand-card-3k2j1x9a')
    expect(baseName('MemberCard', 'pXv3K-2j1x9A', 'A卡')).toBe('card-3k2j1x9a')
    expect(baseName('MemberCard', 'pXv3K-2j1x9A', '')).toBe('card-3k2j1x9a')
  })

  it('derives the prefix from the kind name', () => {
    expect(KIND_NAMES.map(kindPrefix)).toEqual(['card', 'brand-card', 'aggregator-card'])
  })

  it('cuts a long slug to 63 characters without a trailing separator', () => {
    const name = baseName('MemberCard', 'x', `${'a'.repeat(62)} b`)
    expect(name).toBe('a'.repeat(62))
    expect(baseName('MemberCard', 'x', 'b'.repeat(70))).toHaveLength(63)
  })
})

describe('proposeNames', () => {
  const card = (kind: string, cardId: string, title: string) => ({kind, cardId, title})

  it('numbers collisions among the cards found and with the names the project already uses, per kind', () => {
    const taken = new Map([['MemberCard', new Set(['gold'])]])
    const names = proposeNames(
      [
        card('MemberCard', 'p1', 'Gold'),
        card('MemberCard', 'p2', 'GOLD 会员'),
        card('BrandMemberCard', 'p3', 'Gold'),
        card('BrandMemberCard', 'p4', 'gold'),
        card('MemberCard', 'p5', 'Silver'),
      ],
      taken,
      pattern,
    )
    expect(names).toEqual(['gold-2', 'gold-3', 'gold', 'gold-2', 'silver'])
  })

  it('numbers fallback names that collide (card_ids ending alike) and existing fallback names', () => {
    const taken = new Map([['MemberCard', new Set(['card-3k2j1x9a'])]])
    const names = proposeNames([card('MemberCard', 'pA3k2j1x9a', '会员卡'), card('MemberCard', 'pB3K2J1X9A', '储值卡')], taken, pattern)
    expect(names).toEqual(['card-3k2j1x9a-2', 'card-3k2j1x9a-3'])
  })

  it('keeps a numbered long name within 63 characters', () => {
    const long = 'x'.repeat(63)
    const names = proposeNames([card('MemberCard', 'p1', long), card('MemberCard', 'p2', long)], new Map(), pattern)
    expect(names[0]).toBe(long)
    expect(names[1]).toBe(`${'x'.repeat(61)}-2`)
  })

  it('gives valid, unique names for any titles', () => {
    // A fixed pseudo-random mix of CJK, ASCII, punctuation, fullwidth and accented characters.
    const alphabet = [...'会员卡咖啡 VIPgold-_.!Ｇ０éÅ  12ab']
    let seed = 42
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31
    const cards = Array.from({length: 500}, (_, i) => {
      const title = Array.from({length: 1 + Math.floor(next() * 12)}, () => alphabet[Math.floor(next() * alphabet.length)]).join('')
      return card(i % 2 ? 'MemberCard' : 'BrandMemberCard', `p${Math.floor(next() * 1e6)}`, title)
    })
    const names = proposeNames(cards, new Map(), pattern)
    for (const name of names) expect(name).toMatch(pattern)
    for (const kind of ['MemberCard', 'BrandMemberCard']) {
      const ofKind = names.filter((_, i) => cards[i]!.kind === kind)
      expect(new Set(ofKind).size).toBe(ofKind.length)
    }
  })
})
