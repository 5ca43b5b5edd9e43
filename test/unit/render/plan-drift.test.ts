import {describe, expect, it} from 'vitest'
import {renderPlanHuman} from '../../../cli/render/plan-human.js'
import {renderPlanMarkdown} from '../../../cli/render/plan-markdown.js'
import {plainStyle} from '../../../cli/render/style.js'
import {appliedState, card, exampleCards, liveOf, plan} from '../plan/helpers.js'

/** The coffee card's description edited in the merchant console: its third line changed, a fourth added. */
function driftedDescription() {
  const cards = exampleCards()
  const coffee = card(cards, 'coffee-member')
  const live = new Map(cards.map((c) => [c.address, liveOf(c)]))
  live.set(
    coffee.address,
    liveOf(coffee, (o) => {
      o.description = (o.description as string).replace('3. 积分有效期为获得后 12 个月。', '3. 积分永久有效。\n4. 控制台里加的一行。')
    }),
  )
  return plan(cards, appliedState(cards), live)
}

describe('drift of a long text', () => {
  it('the human plan shows it as a line diff, not an escaped one-liner', () => {
    const text = renderPlanHuman(driftedDescription(), plainStyle)
    const drift = text.slice(text.indexOf('Cards changed outside cardform (drift):'), text.indexOf('cardform will perform'))
    expect(drift).toContain(
      [
        '  # MemberCard.coffee-member (card id-coffee-member) was changed outside cardform',
        '      ~ description:',
        '            1. 本卡仅限本人使用，结账前请出示会员码。',
        '            2. 储值余额不可提现，不可转赠。',
        '          - 3. 积分有效期为获得后 12 个月。',
        '          + 3. 积分永久有效。',
        '          + 4. 控制台里加的一行。',
      ].join('\n'),
    )
    expect(drift).not.toContain('\\n')
  })

  it('the markdown plan shows it as a line diff in the drift block', () => {
    const out = renderPlanMarkdown(driftedDescription())
    expect(out).toMatchObject({fits: true, tier: 'full'})
    const md = out.fits ? out.text : ''
    const start = md.indexOf('Changed outside cardform (drift)')
    const drift = md.slice(start, md.indexOf('</details>', start))
    expect(drift).toContain(
      ['! MemberCard.coffee-member changed outside cardform', '!   description:', '        1. 本卡仅限本人使用，结账前请出示会员码。', '        2. 储值余额不可提现，不可转赠。', '-       3. 积分有效期为获得后 12 个月。', '+       3. 积分永久有效。', '+       4. 控制台里加的一行。'].join('\n'),
    )
    expect(drift).not.toContain('\\n')
  })
})

describe('drift of a field the console removed', () => {
  it('says the field is absent, never "undefined"', () => {
    const cards = exampleCards()
    const reader = card(cards, 'bookstore-reader')
    const live = new Map(cards.map((c) => [c.address, liveOf(c)]))
    live.set(reader.address, liveOf(reader, (o) => delete o.additional_statement))
    const text = renderPlanHuman(plan(cards, appliedState(cards), live), plainStyle)
    expect(text).toContain('~ additional_statement.title: "读者卡章程" → (absent)')
    expect(text).not.toContain('undefined')
  })
})
