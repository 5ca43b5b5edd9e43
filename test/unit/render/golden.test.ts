import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import {renderPlanHuman} from '../../../cli/render/plan-human.js'
import {renderPlanMarkdown} from '../../../cli/render/plan-markdown.js'
import {plainStyle} from '../../../cli/render/style.js'
import {packageRoot} from '../../../engine/paths.js'
import {planValidatorFn} from '../../../engine/plan/saved-plan.js'
import type {Plan} from '../../../engine/model/plan.js'
import {appliedState, card, exampleCards, liveOf, plan, withSpec, wires} from '../plan/helpers.js'
import {computePlan, type DesiredCard} from '../../../engine/plan/compute-plan.js'
import {readMetadata} from '../../../engine/plan/state-record.js'
import {collectReviews} from '../../../engine/plan/review.js'

/**
 * Golden files for everything a reviewer reads. Update them on purpose only: `UPDATE_GOLDEN=1 npx vitest run
 * test/unit/render/golden.test.ts`, then read the diff.
 */
function golden(file: string, actual: string, dir = path.join(packageRoot, 'test/golden/all-actions')): void {
  const full = path.join(dir, file)
  if (process.env.UPDATE_GOLDEN === '1') {
    mkdirSync(dir, {recursive: true})
    writeFileSync(full, actual)
  }
  expect(existsSync(full), `${file} is missing: run with UPDATE_GOLDEN=1 once`).toBe(true)
  expect(actual).toBe(readFileSync(full, 'utf8'))
}

/** A plan with every action kind: create, update (config and drift), replace, delete, invalidate and no-op. */
function everyAction(): Plan {
  const cards = exampleCards()
  const inSync = {...card(cards, 'bookstore-reader'), address: 'MemberCard.in-sync', name: 'in-sync'}
  const retired = {...card(cards, 'bookstore-reader'), address: 'MemberCard.retired', name: 'retired'}
  const prior = [...cards, inSync, retired]
  const state = appliedState(prior)
  const live = new Map(prior.map((c) => [c.address, liveOf(c)]))
  const basic = card(cards, 'fitness-basic')
  // Changed in the console: the title, and a second line added to benefits (a long text, shown as a line diff).
  live.set(
    basic.address,
    liveOf(basic, (o) => {
      o.card_title = '动力健身普通会员'
      o.benefits = `${o.benefits as string}\n周末团课免预约`
    }),
  )

  const desired = [
    withSpec(card(cards, 'coffee-member'), (s) => {
      s.description = s.description.replace('3. 积分有效期为获得后 12 个月。', '3. 积分有效期为获得后 24 个月。\n4. 生日当月享双倍积分。')
      s.rights.show_favor = true
      s.rights.favor = {show_coupon: true, member_price_word: '会员价'}
    }),
    withSpec(card(cards, 'bookstore-reader'), (s) => (s.brand.brand_id = '1009999999')),
    basic,
    inSync,
    {...card(cards, 'bookstore-reader'), address: 'MemberCard.tea-member', name: 'tea-member', source: () => ({file: 'cards/tea-member.yaml', line: 3, column: 1})},
  ]
  const p = plan(desired, state, live)
  // WeChat Pay review, as operations.ts reports it: in-sync is still in review, coffee-member failed it.
  const reviewed = new Map(live)
  const withStatus = (address: string, status: string) => {
    const read = reviewed.get(address)!
    if (read.status === 'found') reviewed.set(address, {...read, object: {...read.object, status}})
  }
  withStatus('MemberCard.in-sync', 'NOT_APPROVE')
  withStatus('MemberCard.coffee-member', 'APPROVE_FAIL')
  p.reviews = collectReviews(state, reviewed, wires).filter((r) => r.status !== 'approved')
  return p
}

describe('golden plan output (test/golden/all-actions)', () => {
  const p = everyAction()

  it('lists the cards in review and failing review, never the approved ones', () => {
    expect(p.reviews?.map((r) => [r.address, r.status])).toEqual([
      ['MemberCard.coffee-member', 'failed'],
      ['MemberCard.in-sync', 'in-review'],
    ])
  })

  it('covers every action kind', () => {
    expect(new Set(p.changes.map((c) => c.action))).toEqual(new Set(['create', 'update', 'replace', 'delete', 'invalidate', 'no-op']))
    expect(p.drift.length).toBeGreaterThan(0)
    expect(p.has_irreversible).toBe(true)
  })

  it('human', () => golden('plan.txt', renderPlanHuman(p, plainStyle)))

  it('markdown', () => {
    const parts = renderPlanMarkdown(p)
    expect(parts).toHaveLength(1)
    golden('plan.md', parts[0]!)
  })

  it('json, valid against schemas/plan.schema.json', () => {
    const v = planValidatorFn()
    expect(v(p), JSON.stringify(v.errors)).toBe(true)
    golden('plan.json', JSON.stringify(p, null, 2) + '\n')
  })

  it('markdown splits a large plan into parts under the limit without splitting a card', () => {
    const parts = renderPlanMarkdown(p, 3000)
    expect(parts.length).toBeGreaterThan(1)
    for (const part of parts) expect(part.length).toBeLessThan(3000 + 100)
    expect(parts.join('').match(/<details><summary><code>/g)!.length).toBe(p.changes.filter((c) => c.action !== 'no-op' || c.state_updates || c.moved_from).length)
    expect(parts[parts.length - 1]).toContain(`_Part ${parts.length} of ${parts.length}._`)
  })
})

/**
 * The markers of adoption and lifecycle: `=` import (with and without field changes), `moved`, `forget`, a state-only
 * update, and a removal left alone by --no-delete.
 */
function adoptAndLifecycle(): Plan {
  const cards = exampleCards()
  const meta = (c: DesiredCard, m: Record<string, unknown>): DesiredCard => ({...c, metadata: readMetadata(m)})
  const named = (c: DesiredCard, name: string): DesiredCard => ({...c, name, address: `${c.kind}.${name}`})
  const reader = card(cards, 'bookstore-reader')
  const coffee = card(cards, 'coffee-member')
  const basic = card(cards, 'fitness-basic')
  const plus = card(cards, 'fitness-plus')
  const retired = named(reader, 'retired')
  const kept = named(reader, 'kept-live')
  const state = appliedState([coffee, plus, retired, kept])
  state.resources[kept.address]!.lifecycle = {destroy: false}
  const live = new Map([coffee, plus, retired, kept].map((c) => [c.address, liveOf(c)]))
  const consoleReader = liveOf(reader, (o) => {
    o.card_id = 'pConsoleReader01'
    o.title = '旧读者卡'
  })
  const consoleBasic = liveOf(basic, (o) => (o.card_id = 'pConsoleBasic002'))
  const desired = [
    meta(reader, {import_id: 'pConsoleReader01'}),
    meta(basic, {import_id: 'pConsoleBasic002'}),
    meta(named(coffee, 'coffee-gold'), {moved_from: 'coffee-member'}),
    withSpec(plus, (s) => delete s.legal_agreement),
  ].map((d) => ({...d, source: () => ({file: `cards/${d.name}.yaml`, line: 3, column: 1})}))
  return computePlan({
    desired,
    state,
    lineage: state.lineage,
    live,
    refreshed: true,
    wires,
    version: '0.0.0',
    now: '2026-12-02T00:00:00.000Z',
    imports: new Map([
      [reader.address, consoleReader],
      [basic.address, consoleBasic],
    ]),
    noDelete: true,
  })
}

describe('golden plan output (test/golden/adopt-and-lifecycle)', () => {
  const p = adoptAndLifecycle()
  const dir = path.join(packageRoot, 'test/golden/adopt-and-lifecycle')

  it('covers import, move, forget, a state-only update and a skipped removal', () => {
    expect(new Set(p.changes.map((c) => c.action))).toEqual(new Set(['import', 'forget', 'no-op']))
    expect(p.changes.some((c) => c.moved_from)).toBe(true)
    expect(p.summary).toMatchObject({import: 2, forget: 1, move: 1, state_only: 1})
    expect(p.skipped?.map((s) => s.address)).toEqual(['MemberCard.retired'])
  })

  it('human', () => golden('plan.txt', renderPlanHuman(p, plainStyle), dir))
  it('markdown', () => golden('plan.md', renderPlanMarkdown(p)[0]!, dir))
  it('json, valid against schemas/plan.schema.json', () => {
    const v = planValidatorFn()
    expect(v(p), JSON.stringify(v.errors)).toBe(true)
    golden('plan.json', JSON.stringify(p, null, 2) + '\n', dir)
  })
})
