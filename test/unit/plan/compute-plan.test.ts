import {describe, expect, it} from 'vitest'
import {deriveOutRequestNo} from '../../../engine/plan/compute-plan.js'
import {appliedState, card, exampleCards, liveOf, plan, withSpec} from './helpers.js'

const cards = exampleCards()
const allLive = () => new Map(cards.map((c) => [c.address, liveOf(c)]))

describe('computePlan', () => {
  it('creates every card when there is no state, with rights through their own endpoint', () => {
    const p = plan(cards, null)
    expect(p.summary.create).toBe(cards.length)
    expect(p.changes.every((c) => c.action === 'create' && c.reason === 'new-in-config')).toBe(true)
    const coffee = p.changes.find((c) => c.name === 'coffee-member')!
    expect(coffee.steps.map((s) => s.op)).toEqual(['create', 'rights'])
    const create = coffee.steps[0]!
    if (create.op !== 'create') throw new Error('first step must be create')
    expect(create.body).not.toHaveProperty('rights')
    expect(create.body.out_request_no).toBe(create.out_request_no)
    expect(create.out_request_no).toMatch(/^[0-9A-Za-z_-]{1,128}$/)
  })

  it('marks switching a one-way field on at creation as irreversible, with a warning', () => {
    const p = plan(cards, null)
    const coffee = p.changes.find((c) => c.name === 'coffee-member')!
    expect(coffee.irreversible_paths).toEqual(expect.arrayContaining(['balance_information.need_balance', 'rights.show_bonus']))
    expect(p.has_irreversible).toBe(true)
    expect(p.diagnostics.filter((d) => d.code === 'irreversible-enable').length).toBeGreaterThanOrEqual(2)
  })

  it('plans nothing when live, state and specs agree, and server defaults never show as changes', () => {
    const p = plan(cards, appliedState(cards), allLive())
    expect(p.has_changes).toBe(false)
    expect(p.changes.every((c) => c.action === 'no-op' && c.reason === 'in-sync')).toBe(true)
    expect(p.drift).toEqual([])
    // bookstore-reader omits total_quantity; the live card has the server default 5000000.
    expect(p.changes.find((c) => c.name === 'bookstore-reader')!.field_changes).toEqual([])
  })

  it('patches exactly the changed fields, plus what the family requires in every PATCH', () => {
    const edited = cards.map((c) => (c.name === 'bookstore-reader' ? withSpec(c, (s) => (s.title = '页间读者会员卡')) : c))
    const p = plan(edited, appliedState(cards), allLive())
    const c = p.changes.find((x) => x.name === 'bookstore-reader')!
    expect(c.action).toBe('update')
    expect(c.reason).toBe('changed-in-config')
    expect(c.field_changes).toEqual([{path: 'title', before: '页间读者卡', after: '页间读者会员卡', source: 'config'}])
    expect(c.steps).toEqual([{op: 'patch', body: {title: '页间读者会员卡', code_mode: 'MERCHANT_DEPOSIT'}}])
  })

  it('brand family PATCH bodies carry brand_id', () => {
    const edited = cards.map((c) => (c.name === 'fitness-basic' ? withSpec(c, (s) => (s.benefits = '免费体测')) : c))
    const c = plan(edited, appliedState(cards), allLive()).changes.find((x) => x.name === 'fitness-basic')!
    expect(c.steps).toEqual([{op: 'patch', body: {benefits: '免费体测', brand_id: '1004582931'}}])
  })

  it('shows a change made outside cardform as drift and plans to restore the configured value', () => {
    const live = allLive()
    const reader = card(cards, 'bookstore-reader')
    live.set(reader.address, liveOf(reader, (o) => (o.title = '被改过的卡')))
    const p = plan(cards, appliedState(cards), live)
    expect(p.drift).toHaveLength(1)
    expect(p.drift[0]!.field_changes).toEqual([{path: 'title', before: '页间读者卡', after: '被改过的卡', source: 'drift'}])
    const c = p.changes.find((x) => x.name === 'bookstore-reader')!
    expect(c.action).toBe('update')
    expect(c.reason).toBe('drifted')
    expect(c.field_changes[0]).toMatchObject({path: 'title', before: '被改过的卡', after: '页间读者卡', source: 'drift'})
  })

  it('refuses to switch balance display off, naming the field', () => {
    const edited = cards.map((c) => (c.name === 'coffee-member' ? withSpec(c, (s) => (s.balance_information.need_balance = false)) : c))
    const p = plan(edited, appliedState(cards), allLive())
    expect(p.applyable).toBe(false)
    const d = p.diagnostics.find((x) => x.code === 'oneway-reversal')!
    expect(d.severity).toBe('error')
    expect(d.path).toBe('spec.balance_information.need_balance')
  })

  it('refuses to switch rights display off, comparing with state because GET cannot return rights', () => {
    const edited = cards.map((c) => (c.name === 'coffee-member' ? withSpec(c, (s) => (s.rights.show_bonus = false)) : c))
    const p = plan(edited, appliedState(cards), allLive())
    expect(p.diagnostics.map((d) => d.code)).toContain('oneway-reversal')
  })

  it('changes rights through the rights endpoint only', () => {
    const edited = cards.map((c) => (c.name === 'coffee-member' ? withSpec(c, (s) => (s.rights.bonus.bonus_value_word = '咖啡豆')) : c))
    const c = plan(edited, appliedState(cards), allLive()).changes.find((x) => x.name === 'coffee-member')!
    expect(c.action).toBe('update')
    expect(c.steps.map((s) => s.op)).toEqual(['rights'])
    expect(c.field_changes[0]).toMatchObject({path: 'rights.bonus.bonus_value_word', write_only: true})
  })

  it('replaces a card whose immutable field changed, and says the change is destructive', () => {
    const edited = cards.map((c) => (c.name === 'bookstore-reader' ? withSpec(c, (s) => (s.brand.brand_id = '1009999999')) : c))
    const c = plan(edited, appliedState(cards), allLive()).changes.find((x) => x.name === 'bookstore-reader')!
    expect(c.action).toBe('replace')
    expect(c.destructive).toBe(true)
    expect(c.replace_paths).toEqual(['brand.brand_id'])
    expect(c.steps.map((s) => s.op)).toEqual(['create', 'delete'])
    expect(c.steps[1]).toEqual({op: 'delete', remote_id: 'id-bookstore-reader'})
  })

  it('allows code_mode MERCHANT_DEPOSIT → REAL_TIME in place but replaces a change away from SYSTEM_ALLOCATE', () => {
    const inPlace = cards.map((c) => (c.name === 'bookstore-reader' ? withSpec(c, (s) => (s.code_mode = 'REAL_TIME')) : c))
    expect(plan(inPlace, appliedState(cards), allLive()).changes.find((x) => x.name === 'bookstore-reader')!.action).toBe('update')
    const away = cards.map((c) => (c.name === 'coffee-member' ? withSpec(c, (s) => {
      s.code_mode = 'MERCHANT_DEPOSIT'
      delete s.total_quantity
    }) : c))
    const c = plan(away, appliedState(cards), allLive()).changes.find((x) => x.name === 'coffee-member')!
    expect(c.action).toBe('replace')
    expect(c.replace_paths).toContain('code_mode')
  })

  it('deletes a removed membercard-open card and invalidates a removed brand card', () => {
    const kept = cards.filter((c) => c.name !== 'bookstore-reader' && c.name !== 'fitness-plus')
    const p = plan(kept, appliedState(cards), allLive())
    const reader = p.changes.find((x) => x.name === 'bookstore-reader')!
    expect(reader).toMatchObject({action: 'delete', reason: 'removed-from-config', destructive: true})
    expect(reader.steps).toEqual([{op: 'delete', remote_id: 'id-bookstore-reader'}])
    const plus = p.changes.find((x) => x.name === 'fitness-plus')!
    expect(plus).toMatchObject({action: 'invalidate', destructive: true})
    expect(plus.steps).toEqual([{op: 'invalidate', remote_id: 'id-fitness-plus', body: {brand_id: '1004582931'}}])
    expect(p.has_destructive).toBe(true)
  })

  it('re-creates a card deleted outside cardform with a new out_request_no', () => {
    const live = allLive()
    const reader = card(cards, 'bookstore-reader')
    live.set(reader.address, {status: 'gone', detail: '404'})
    const p = plan(cards, appliedState(cards), live)
    const c = p.changes.find((x) => x.name === 'bookstore-reader')!
    expect(c).toMatchObject({action: 'create', reason: 'deleted-outside'})
    const step = c.steps[0]!
    if (step.op !== 'create') throw new Error('expected create')
    expect(step.generation).toBe(2)
    expect(step.out_request_no).not.toBe(deriveOutRequestNo('lineage-test', reader.address, 1, step.body))
    expect(p.drift).toContainEqual(expect.objectContaining({address: reader.address, type: 'deleted'}))
  })

  it('treats two RFC 3339 spellings of one instant as equal', () => {
    const coffee = card(cards, 'coffee-member')
    const timed = withSpec(coffee, (s) => (s.date_information = {type: 'FIX_TIME_RANGE', available_begin_time: '2026-01-01T00:00:00+08:00', available_end_time: '2027-01-01T00:00:00+08:00'}))
    const live = new Map([[timed.address, liveOf(timed, (o) => {
      o.date_information = {type: 'FIX_TIME_RANGE', available_begin_time: '2025-12-31T16:00:00.000Z', available_end_time: '2027-01-01T00:00:00.000+08:00'}
    })]])
    const p = plan([timed], appliedState([timed]), live)
    expect(p.has_changes).toBe(false)
  })

  it('the out_request_no is a pure function of lineage, address, generation and body', () => {
    const a = deriveOutRequestNo('l', 'MemberCard.a', 1, {x: 1, y: 2})
    expect(deriveOutRequestNo('l', 'MemberCard.a', 1, {y: 2, x: 1})).toBe(a)
    expect(deriveOutRequestNo('l', 'MemberCard.a', 2, {x: 1, y: 2})).not.toBe(a)
    expect(deriveOutRequestNo('m', 'MemberCard.a', 1, {x: 1, y: 2})).not.toBe(a)
  })

  it('resumes an interrupted create with the journaled key and body', () => {
    const reader = card(cards, 'bookstore-reader')
    const state = appliedState([])
    state.resources[reader.address] = {
      kind: reader.kind, name: reader.name, status: 'creating', out_request_no: 'cf-journaled', generation: 1,
      applied: reader.spec, write_only: {}, create_body: {title: 'journaled'}, updated_at: 'x',
    }
    const c = plan([reader], state).changes[0]!
    expect(c).toMatchObject({action: 'create', reason: 'create-interrupted'})
    expect(c.steps[0]).toEqual({op: 'create', out_request_no: 'cf-journaled', body: {title: 'journaled'}, generation: 1})
  })
})

describe('fields GET cannot return and fields only PATCH accepts', () => {
  const reader = withSpec(card(cards, 'bookstore-reader'), (s) => {
    s.need_dynamic_code = true
    s.user_information_form = {common_field_list: ['USER_FORM_FLAG_MOBILE'], can_modify_after_activate: true}
  })

  it('creates without the PATCH-only field, then sends it in a PATCH right after', () => {
    const c = plan([reader], null).changes[0]!
    expect(c.steps.map((s) => s.op)).toEqual(['create', 'patch'])
    const [create, patch] = c.steps
    if (create?.op !== 'create' || patch?.op !== 'patch') throw new Error('unexpected steps')
    expect(create.body.user_information_form).toEqual({common_field_list: ['USER_FORM_FLAG_MOBILE']})
    expect(create.body.need_dynamic_code).toBe(true)
    expect(patch.body).toEqual({
      user_information_form: {common_field_list: ['USER_FORM_FLAG_MOBILE'], can_modify_after_activate: true},
      code_mode: 'MERCHANT_DEPOSIT',
    })
  })

  it('compares them with state, so their absence from GET is not drift', () => {
    const live = new Map([[reader.address, liveOf(reader, (o) => {
      delete o.need_dynamic_code
      delete (o.user_information_form as Record<string, unknown>).can_modify_after_activate
    })]])
    const p = plan([reader], appliedState([reader]), live)
    expect(p.has_changes).toBe(false)
    expect(p.drift).toEqual([])
  })
})

describe('the aggregator kind, which can only be created', () => {
  const spec = {store_id: 's1', terminal_type: 'weChat', title: '会员卡', supply_bonus: 0}
  const agg = {address: 'AggregatorMemberCard.store', kind: 'AggregatorMemberCard', name: 'store', spec}
  const created = () => {
    const state = appliedState([agg])
    return state
  }

  it('refuses to resume an interrupted create, which has no idempotency key', () => {
    const state = appliedState([])
    state.resources[agg.address] = {kind: agg.kind, name: agg.name, status: 'creating', out_request_no: 'cf-x', generation: 1, applied: spec, write_only: {}, create_body: spec, updated_at: 'x'}
    const p = plan([agg], state)
    expect(p.applyable).toBe(false)
    expect(p.diagnostics.map((d) => d.code)).toContain('create-outcome-unknown')
  })

  it('a change is a plan error saying why, and removal too', () => {
    const changed = plan([{...agg, spec: {...spec, title: '新会员卡'}}], created())
    expect(changed.diagnostics.find((d) => d.code === 'create-only-change')?.message).toContain('can only be created')
    const removed = plan([], created())
    expect(removed.diagnostics.find((d) => d.code === 'create-only-remove')?.message).toContain('cannot be deleted through the API')
    expect(removed.applyable).toBe(false)
  })

  it('switching supply_bonus on is irreversible', () => {
    const p = plan([{...agg, spec: {...spec, supply_bonus: 1}}], null)
    expect(p.changes[0]!.irreversible_paths).toEqual(['supply_bonus'])
  })
})

describe('lists whose items have a key', () => {
  it('show one change per item, addressed by key, while the PATCH carries the whole list', () => {
    const coffee = card(cards, 'coffee-member')
    const edited = withSpec(coffee, (s) => {
      s.user_information_form.custom_field_list[0].values.push('三里屯店')
      s.user_information_form.custom_field_list.push({type: 'TEXT', name: '口味偏好', values: ['少糖']})
    })
    const c = plan([edited], appliedState([coffee]), new Map([[coffee.address, liveOf(coffee)]])).changes[0]!
    expect(c.field_changes.map((f) => f.path)).toEqual([
      'user_information_form.custom_field_list[name=常去门店]',
      'user_information_form.custom_field_list[name=口味偏好]',
    ])
    expect(c.field_changes[1]).toMatchObject({after: {type: 'TEXT', name: '口味偏好', values: ['少糖']}})
    expect(c.field_changes[1]).not.toHaveProperty('before')
    const patch = c.steps[0]!
    if (patch.op !== 'patch') throw new Error('expected a patch')
    expect(patch.body.user_information_form).toEqual(edited.spec.user_information_form)
  })

  it('a list whose items only moved stays one change', () => {
    const plus = card(cards, 'fitness-plus')
    const reordered = withSpec(plus, (s) => s.user_information.custom_field_list.push({type: 'RADIO', name: '会籍', values: ['年卡']}))
    const moved = withSpec(reordered, (s) => s.user_information.custom_field_list.reverse())
    const c = plan([moved], appliedState([reordered]), new Map([[reordered.address, liveOf(reordered)]])).changes[0]!
    expect(c.field_changes.map((f) => f.path)).toEqual(['user_information.custom_field_list'])
  })
})

describe('fields the spec stops setting', () => {
  it('return to the server default when the schema names one, and the PATCH carries it', () => {
    const coffee = card(cards, 'coffee-member')
    const dropped = withSpec(coffee, (s) => delete s.total_quantity)
    const c = plan([dropped], appliedState([coffee]), new Map([[coffee.address, liveOf(coffee)]])).changes[0]!
    expect(c.field_changes).toEqual([{path: 'total_quantity', before: 1000000, after: 5000000, source: 'config'}])
    expect(c.steps).toEqual([{op: 'patch', body: {total_quantity: 5000000, code_mode: 'SYSTEM_ALLOCATE'}}])
  })

  it('otherwise stay as they are: one warning per field group, placed, and the state update shown in the plan', () => {
    const reader = card(cards, 'bookstore-reader')
    const dropped = {
      ...withSpec(reader, (s) => delete s.additional_statement),
      positionOf: (p: readonly string[]) => ({file: 'cards/bookstore-reader.yaml', line: p.length === 0 ? 5 : 6, column: 3}),
    }
    const p = plan([dropped], appliedState([reader]), new Map([[reader.address, liveOf(reader)]]))
    const warnings = p.diagnostics.filter((d) => d.code === 'unset-unsupported')
    expect(warnings).toHaveLength(1)
    expect(warnings[0]!.path).toBe('spec.additional_statement')
    expect(warnings[0]!.message).toContain('additional_statement (additional_statement.title, additional_statement.url)')
    expect(warnings[0]!.source).toEqual({file: 'cards/bookstore-reader.yaml', line: 6, column: 3})
    // Apply forgets the fields in state: the plan must say so (a plan of "No changes" followed by an apply that
    // writes state was a bug).
    const c = p.changes.find((x) => x.address === reader.address)!
    expect(c.action).toBe('no-op')
    expect(c.steps).toEqual([])
    expect(c.state_updates).toEqual(['additional_statement: no longer managed (the card keeps its value)'])
    expect(p.has_changes).toBe(true)
    expect(p.summary.state_only).toBe(1)
  })
})
