import {describe, expect, it} from 'vitest'
import type {LiveRead} from '../../../engine/plan/compute-plan.js'
import {computePlan, type DesiredCard, type ImportRead} from '../../../engine/plan/compute-plan.js'
import {nextRecord, readMetadata} from '../../../engine/plan/state-record.js'
import type {StateDocument} from '../../../engine/model/state.js'
import {appliedState, card, exampleCards, liveOf, withSpec, wires} from './helpers.js'

const cards = exampleCards()
const allLive = () => new Map(cards.map((c) => [c.address, liveOf(c)]))

function planWith(desired: DesiredCard[], state: StateDocument | null, live: Map<string, LiveRead>, extra: {imports?: Map<string, ImportRead>; noDelete?: boolean} = {}) {
  return computePlan({
    desired,
    state,
    lineage: state?.lineage ?? 'lineage-new',
    live,
    refreshed: true,
    wires,
    version: '0.0.0',
    now: '2026-12-02T00:00:00.000Z',
    ...extra,
  })
}

const withMeta = (c: DesiredCard, metadata: Record<string, unknown>): DesiredCard => ({...c, metadata: readMetadata(metadata)})
const renamed = (c: DesiredCard, name: string): DesiredCard => ({...c, name, address: `${c.kind}.${name}`})

describe('import (metadata.import_id)', () => {
  const reader = card(cards, 'bookstore-reader')
  const importing = withMeta(reader, {import_id: 'card-console-1'})
  const consoleCard = (edit?: (o: Record<string, unknown>) => void) =>
    liveOf(reader, (o) => {
      o.card_id = 'card-console-1'
      o.service_phone = '010-1234' // set in the console, not in the spec: left alone
      edit?.(o)
    })

  it('plans `import` with no field change when the card already matches the spec, and nothing created', () => {
    const p = planWith([importing], null, new Map(), {imports: new Map([[reader.address, consoleCard()]])})
    const c = p.changes[0]!
    expect(c).toMatchObject({action: 'import', reason: 'import-requested', remote_id: 'card-console-1', destructive: false})
    expect(c.field_changes).toEqual([])
    expect(c.steps).toEqual([])
    expect(p.summary.import).toBe(1)
    expect(p.summary.create).toBe(0)
    expect(p.has_changes).toBe(true)
    expect(p.applyable).toBe(true)
  })

  it('shows the fields the import would then change, as changes in config, and PATCHes only those', () => {
    const p = planWith([importing], null, new Map(), {imports: new Map([[reader.address, consoleCard((o) => (o.title = '旧书店卡'))]])})
    const c = p.changes[0]!
    expect(c.field_changes).toEqual([{path: 'title', before: '旧书店卡', after: '页间读者卡', source: 'config'}])
    expect(c.steps).toEqual([{op: 'patch', body: {title: '页间读者卡', code_mode: 'MERCHANT_DEPOSIT'}}])
    expect(p.drift).toEqual([])
  })

  it('sends write-only blocks the spec sets through their endpoint, marking a switch-on irreversible', () => {
    const coffee = withMeta(card(cards, 'coffee-member'), {import_id: 'card-console-2'})
    const live = liveOf(card(cards, 'coffee-member'), (o) => (o.card_id = 'card-console-2'))
    const p = planWith([coffee], null, new Map(), {imports: new Map([[coffee.address, live]])})
    const c = p.changes[0]!
    expect(c.steps.map((s) => s.op)).toEqual(['rights'])
    expect(c.irreversible_paths).toContain('rights.show_bonus')
    // rights.show_favor is false in the spec; GET cannot tell whether the console switched it on.
    expect(p.diagnostics.find((d) => d.code === 'import-write-only-unknown')?.path).toBe('spec.rights.show_favor')
  })

  it.each([
    ['import-not-found', {status: 'gone', detail: 'status DELETED'} as ImportRead],
    ['import-not-readable', {status: 'unreadable', detail: '400 PARAM_ERROR 商户和品牌关系校验失败'} as ImportRead],
  ])('is a plan error when the card cannot be imported (%s)', (code, read) => {
    const p = planWith([importing], null, new Map(), {imports: new Map([[reader.address, read]])})
    expect(p.applyable).toBe(false)
    expect(p.diagnostics.map((d) => d.code)).toContain(code)
    expect(p.changes).toEqual([])
  })

  it('is a plan error when the card is already in state under another address', () => {
    const state = appliedState([reader])
    const other = withMeta(renamed(reader, 'reader-two'), {import_id: 'id-bookstore-reader'})
    const p = planWith([reader, other], state, allLive(), {imports: new Map([[other.address, liveOf(reader)]])})
    const d = p.diagnostics.find((x) => x.code === 'import-already-managed')!
    expect(d.message).toContain('MemberCard.bookstore-reader')
    expect(p.applyable).toBe(false)
  })

  it('is a plan error when importing would replace the card (an immutable field differs)', () => {
    const live = consoleCard((o) => (o.brand = {brand_id: '1009999999', display_name: '别的品牌'}))
    const p = planWith([importing], null, new Map(), {imports: new Map([[reader.address, live]])})
    expect(p.diagnostics.map((d) => d.code)).toContain('import-needs-replacement')
    expect(p.applyable).toBe(false)
  })

  it('is ignored once the card is in state at this address, and an error when state holds another card there', () => {
    const state = appliedState([reader])
    const same = withMeta(reader, {import_id: 'id-bookstore-reader'})
    expect(planWith([same], state, allLive()).has_changes).toBe(false)
    const other = withMeta(reader, {import_id: 'card-else'})
    expect(planWith([other], state, allLive()).diagnostics.map((d) => d.code)).toContain('import-conflict')
  })
})

describe('moves (metadata.moved_from)', () => {
  const coffee = card(cards, 'coffee-member')

  it('moves the state entry instead of deleting one card and creating another', () => {
    const moved = withMeta(renamed(coffee, 'coffee-gold'), {moved_from: 'coffee-member'})
    const p = planWith([moved], appliedState([coffee]), allLive())
    expect(p.changes).toHaveLength(1)
    const c = p.changes[0]!
    expect(c).toMatchObject({address: 'MemberCard.coffee-gold', moved_from: 'MemberCard.coffee-member', action: 'no-op', remote_id: 'id-coffee-member'})
    expect(c.steps).toEqual([])
    expect(p.summary.move).toBe(1)
    expect(p.has_changes).toBe(true)
    expect(p.has_destructive).toBe(false)
  })

  it('diffs the moved card against its old live read, and updates it in the same apply', () => {
    const moved = withSpec(withMeta(renamed(coffee, 'coffee-gold'), {moved_from: 'coffee-member'}), (s) => (s.title = '悦享金卡'))
    const c = planWith([moved], appliedState([coffee]), allLive()).changes[0]!
    expect(c.action).toBe('update')
    expect(c.moved_from).toBe('MemberCard.coffee-member')
    expect(c.field_changes.map((f) => f.path)).toEqual(['title'])
  })

  it('is an error while the old name is still in the config', () => {
    const moved = withMeta(renamed(coffee, 'coffee-gold'), {moved_from: 'coffee-member'})
    const p = planWith([coffee, moved], appliedState([coffee]), allLive())
    expect(p.diagnostics.map((d) => d.code)).toContain('moved-from-in-config')
  })

  it('is history once applied: an old name not in state is ignored', () => {
    const moved = withMeta(renamed(coffee, 'coffee-gold'), {moved_from: 'coffee-member'})
    const state = appliedState([renamed(coffee, 'coffee-gold')])
    state.resources['MemberCard.coffee-gold']!.remote_id = 'id-coffee-member'
    const live = new Map([['MemberCard.coffee-gold', liveOf(coffee)]])
    expect(planWith([moved], state, live).has_changes).toBe(false)
  })
})

describe('lifecycle', () => {
  const reader = card(cards, 'bookstore-reader')

  it('prevent_destroy makes a replacement a plan error, whatever the flags', () => {
    const guarded = withMeta(
      withSpec(reader, (s) => (s.brand.brand_id = '1009999999')),
      {lifecycle: {prevent_destroy: 'true'}}, // as ${env:…} leaves it
    )
    const p = planWith([guarded], appliedState([reader]), allLive())
    const d = p.diagnostics.find((x) => x.code === 'prevent-destroy')!
    expect(d.severity).toBe('error')
    expect(d.message).toContain('brand.brand_id')
    expect(p.applyable).toBe(false)
  })

  it('prevent_destroy is remembered in state, so removing the spec cannot delete the card', () => {
    const state = appliedState([reader])
    state.resources[reader.address]!.lifecycle = {prevent_destroy: true}
    const p = planWith([], state, allLive())
    expect(p.diagnostics.find((x) => x.code === 'prevent-destroy')?.message).toContain('remembered in state')
    expect(p.applyable).toBe(false)
  })

  it('records a newly set lifecycle in state, and the plan says so', () => {
    const guarded = withMeta(reader, {lifecycle: {prevent_destroy: true, destroy: false}})
    const c = planWith([guarded], appliedState([reader]), allLive()).changes[0]!
    expect(c.state_updates).toEqual(['lifecycle.prevent_destroy: recorded as true', 'lifecycle.destroy: recorded as false'])
  })

  it('destroy: false turns removal from the config into forget (state only)', () => {
    const state = appliedState([reader])
    state.resources[reader.address]!.lifecycle = {destroy: false}
    const p = planWith([], state, allLive())
    const c = p.changes[0]!
    expect(c).toMatchObject({action: 'forget', reason: 'removed-from-config', destructive: false, steps: []})
    expect(p.summary.forget).toBe(1)
    expect(p.has_destructive).toBe(false)
  })

  it('ignore_changes: a console edit of an ignored field is neither drift nor a change', () => {
    const ignoring = withMeta(reader, {lifecycle: {ignore_changes: ['description', 'additional_statement.url']}})
    const live = allLive()
    live.set(reader.address, liveOf(reader, (o) => {
      o.description = '店员在后台改的说明'
      o.additional_statement = {...(o.additional_statement as object), url: 'https://example.com/console'}
    }))
    const p = planWith([ignoring], appliedState([reader]), live)
    expect(p.drift).toEqual([])
    expect(p.has_changes).toBe(false)
  })

  it('ignore_changes: a PATCH of the enclosing object carries the card’s value, never resets it', () => {
    const ignoring = withMeta(
      withSpec(reader, (s) => (s.additional_statement.title = '新的声明标题')),
      {lifecycle: {ignore_changes: ['additional_statement.url']}},
    )
    const live = allLive()
    live.set(reader.address, liveOf(reader, (o) => (o.additional_statement = {...(o.additional_statement as object), url: 'https://example.com/console'})))
    const c = planWith([ignoring], appliedState([reader]), live).changes[0]!
    expect(c.steps).toEqual([
      {op: 'patch', body: {additional_statement: {title: '新的声明标题', url: 'https://example.com/console'}, code_mode: 'MERCHANT_DEPOSIT'}},
    ])
  })

  it('--no-delete lists removals and replacements as skipped instead of planning them', () => {
    const replaced = withSpec(reader, (s) => (s.brand.brand_id = '1009999999'))
    const kept = cards.filter((c) => c.name !== 'fitness-plus' && c.name !== 'bookstore-reader')
    const p = planWith([...kept, replaced], appliedState(cards), allLive(), {noDelete: true})
    expect(p.skipped).toEqual([
      {address: 'BrandMemberCard.fitness-plus', kind: 'BrandMemberCard', name: 'fitness-plus', action: 'invalidate', remote_id: 'id-fitness-plus', why: 'no-delete'},
      {address: 'MemberCard.bookstore-reader', kind: 'MemberCard', name: 'bookstore-reader', action: 'replace', remote_id: 'id-bookstore-reader', why: 'no-delete'},
    ])
    expect(p.has_destructive).toBe(false)
    expect(p.changes.map((c) => c.address)).not.toContain('BrandMemberCard.fitness-plus')
  })
})

describe('one-way switches are remembered for ever (bug: lost once the rights block was removed)', () => {
  const coffee = card(cards, 'coffee-member')

  it('removing the rights block records rights.show_bonus as switched on, and the plan shows it', () => {
    const state = appliedState([coffee])
    const dropped = withSpec(coffee, (s) => delete s.rights)
    const c = planWith([dropped], state, allLive()).changes[0]!
    expect(c.state_updates).toContain('rights.show_bonus: remembered as switched on (it can never be switched off)')
    const rec = nextRecord(wires.get('MemberCard')!, dropped.spec, undefined, state.resources[coffee.address])
    expect(rec.one_way).toEqual({'rights.show_bonus': true})
    expect(rec.write_only).toEqual({})
  })

  it('re-adding the block with the switch off is a plan error, not an API failure', () => {
    const state = appliedState([coffee])
    const r = state.resources[coffee.address]!
    r.write_only = {}
    r.one_way = {'rights.show_bonus': true}
    const readded = withSpec(coffee, (s) => (s.rights = {show_bonus: false}))
    const p = planWith([readded], state, allLive())
    const d = p.diagnostics.find((x) => x.code === 'oneway-reversal')!
    expect(d.path).toBe('spec.rights.show_bonus')
    expect(p.applyable).toBe(false)
  })
})

describe('interrupted creates', () => {
  it('do not warn that the spec changed when only the rights and balance (not in the create body) are set', () => {
    const coffee = card(cards, 'coffee-member')
    const first = planWith([coffee], null, new Map())
    const create = first.changes[0]!.steps[0]!
    if (create.op !== 'create') throw new Error('expected a create')
    const state = appliedState([])
    state.resources[coffee.address] = {
      kind: 'MemberCard',
      name: 'coffee-member',
      status: 'creating',
      out_request_no: create.out_request_no,
      generation: 1,
      applied: {},
      write_only: {},
      create_body: create.body,
      updated_at: '2026-12-02T00:00:00Z',
    }
    const p = planWith([coffee], state, new Map())
    expect(p.diagnostics.map((d) => d.code)).toContain('create-interrupted')
    expect(p.diagnostics.map((d) => d.code)).not.toContain('create-interrupted-changed')
    const edited = withSpec(coffee, (s) => (s.title = '悦享咖啡新卡'))
    expect(planWith([edited], state, new Map()).diagnostics.map((d) => d.code)).toContain('create-interrupted-changed')
  })
})
