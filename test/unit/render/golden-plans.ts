import type {Plan} from '../../../engine/model/plan.js'
import type {StateDocument} from '../../../engine/model/state.js'
import {computePlan, type DesiredCard, type LiveRead} from '../../../engine/plan/compute-plan.js'
import {readMetadata} from '../../../engine/plan/state-record.js'
import {collectReviews} from '../../../engine/plan/review.js'
import {appliedState, card, exampleCards, liveOf, plan, withSpec, wires} from '../plan/helpers.js'

/**
 * The plans of the golden files (test/golden/<case>/), with the inputs they were computed from, so other renderers
 * (the HTML plan) can show the same cards.
 */
export interface GoldenPlan {
  plan: Plan
  desired: DesiredCard[]
  state: StateDocument
  live: Map<string, LiveRead>
  imports?: Map<string, LiveRead>
}

/** A plan with every action kind: create, update (config and drift), replace, delete, invalidate and no-op. */
export function everyAction(): GoldenPlan {
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
  return {plan: p, desired, state, live}
}

/**
 * The markers of adoption and lifecycle: `=` import (with and without field changes), `moved`, `forget`, a state-only
 * update, and a removal left alone by --no-delete.
 */
export function adoptAndLifecycle(): GoldenPlan {
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
  const imports = new Map([
    [reader.address, consoleReader],
    [basic.address, consoleBasic],
  ])
  const p = computePlan({
    desired,
    state,
    lineage: state.lineage,
    live,
    refreshed: true,
    wires,
    version: '0.0.0',
    now: '2026-12-02T00:00:00.000Z',
    imports,
    noDelete: true,
  })
  return {plan: p, desired, state, live, imports}
}
