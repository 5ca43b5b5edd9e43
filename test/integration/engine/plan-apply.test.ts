import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {readFileSync} from 'node:fs'
import path from 'node:path'
import {createProject, liveCards, type TestProject} from './project.js'

let p: TestProject
beforeEach(async () => {
  p = await createProject()
})
afterEach(async () => {
  await p.close()
})

const applyAll = () => p.cli(['apply', '--auto-approve', '--allow-irreversible', '--allow-destroy'])

const planJson = () => p.planJson()

describe('plan and apply against the emulator', () => {
  it('first apply creates every card; the next plan has no changes', async () => {
    const first = await applyAll()
    expect(first.code, first.stdout + first.stderr).toBe(0)
    expect(first.stdout).toContain('Apply complete: 4 cards changed, 0 failed.')
    expect(liveCards(p.emulator)).toHaveLength(4)
    const state = p.state()
    expect(Object.keys(state.resources).sort()).toEqual([
      'BrandMemberCard.fitness-basic',
      'BrandMemberCard.fitness-plus',
      'MemberCard.bookstore-reader',
      'MemberCard.coffee-member',
    ])
    const again = await p.cli(['plan', '--detailed-exitcode'])
    expect(again.code, again.stdout + again.stderr).toBe(0)
    expect(again.stdout).toContain('No changes.')
    // The rights block is stored in state (GET cannot return it) and was applied to the card.
    const coffee = state.resources['MemberCard.coffee-member']!
    expect(coffee.write_only).toHaveProperty('rights.show_bonus', true)
    const shown = await p.cli(['state', 'show', 'MemberCard.coffee-member'])
    expect(JSON.parse(shown.stdout)).toEqual(coffee)
    const missing = await p.cli(['state', 'show', 'MemberCard.nope'])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain('error[state-not-found]: MemberCard.nope is not in state')
    // state rm forgets a card without touching it: the live card stays, and the spec now plans a new one.
    const readerId = state.resources['MemberCard.bookstore-reader']!.remote_id!
    const rm = await p.cli(['state', 'rm', 'MemberCard.bookstore-reader'])
    expect(rm.stdout).toContain(`Removed MemberCard.bookstore-reader (card ${readerId}) from state; the live card was not touched.`)
    expect(p.emulator.admin.getCard(readerId)!.card.status).toBe('APPROVED')
    expect((await p.cli(['plan'])).stdout).toContain('Plan: 1 to create, 0 to update')
    expect(p.emulator.admin.getCard(coffee.remote_id!)!.rights).toMatchObject({show_bonus: true})
  })

  it('editing a spec plans and applies a PATCH of exactly the changed fields', async () => {
    await applyAll()
    p.edit('cards/bookstore-reader.yaml', 'title: 页间读者卡', 'title: 页间读者会员卡')
    const changed = await p.cli(['plan', '--detailed-exitcode'])
    expect(changed.code).toBe(2)
    expect(changed.stdout).toContain('~ title: "页间读者卡" → "页间读者会员卡"')
    expect(changed.stdout).toContain('Plan: 0 to create, 1 to update, 0 to replace, 0 to delete, 0 to invalidate.')
    const plan = await planJson()
    const c = plan.changes.find((x) => x.address === 'MemberCard.bookstore-reader')!
    expect(c.steps).toEqual([{op: 'patch', body: {title: '页间读者会员卡', code_mode: 'MERCHANT_DEPOSIT'}}])
    const before = p.emulator.admin.stats().by_route
    expect((await applyAll()).code).toBe(0)
    const after = p.emulator.admin.stats().by_route
    const patches = Object.keys(after).filter((k) => k.startsWith('PATCH') && (after[k] ?? 0) > (before[k] ?? 0))
    expect(patches.length).toBe(1)
    const id = p.state().resources['MemberCard.bookstore-reader']!.remote_id!
    expect(p.emulator.admin.getCard(id)!.card.title).toBe('页间读者会员卡')
    expect((await p.cli(['plan', '--detailed-exitcode'])).code).toBe(0)
  })

  it('shows a change made behind cardform’s back as drift and corrects it', async () => {
    await applyAll()
    const id = p.state().resources['BrandMemberCard.fitness-basic']!.remote_id!
    await p.emulator.admin.mutateCard(id, {card_title: '别人改的名字'})
    const r = await p.cli(['plan', '--detailed-exitcode'])
    expect(r.code).toBe(2)
    expect(r.stdout).toContain('Cards changed outside cardform (drift):')
    expect(r.stdout).toContain('card_title: "动力健身会员" → "别人改的名字"')
    expect(r.stdout).toMatch(/BrandMemberCard\.fitness-basic .* will be updated in place: drifted outside cardform/)
    expect((await applyAll()).code).toBe(0)
    expect(p.emulator.admin.getCard(id)!.card.card_title).toBe('动力健身会员')
    expect((await p.cli(['plan', '--detailed-exitcode'])).code).toBe(0)
  })

  it('reports a card deleted outside cardform and creates it again', async () => {
    await applyAll()
    const oldId = p.state().resources['MemberCard.bookstore-reader']!.remote_id!
    await p.emulator.admin.mutateCard(oldId, {status: 'DELETED'}) // deleted in the merchant console
    const r = await p.cli(['plan', '--detailed-exitcode'])
    expect(r.code).toBe(2)
    expect(r.stdout).toContain(`# MemberCard.bookstore-reader (card ${oldId}) was deleted outside cardform`)
    expect(r.stdout).toMatch(/warning\[deleted-outside\]: MemberCard\.bookstore-reader: card \S+ was deleted outside cardform \(status DELETED\); it will be created again/)
    expect(r.stdout).toContain('Plan: 1 to create, 0 to update')
    expect((await applyAll()).code).toBe(0)
    const newId = p.state().resources['MemberCard.bookstore-reader']!.remote_id!
    expect(newId).not.toBe(oldId)
    expect(liveCards(p.emulator).map((c) => c.card_id)).toContain(newId)
    const after = await p.cli(['plan', '--detailed-exitcode'])
    expect(after.code, after.stdout).toBe(0)
  })

  it('refuses at plan time to switch a one-way field off, with file:line:column', async () => {
    await applyAll()
    p.edit('cards/coffee-member.yaml', 'need_balance: true', 'need_balance: false')
    const r = await p.cli(['plan'])
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(/cards\/coffee-member\.yaml:\d+:\d+: error\[oneway-reversal\]: MemberCard\.coffee-member: spec\.balance_information\.need_balance cannot be switched off/)
    const line = Number(/coffee-member\.yaml:(\d+):/.exec(r.stdout)![1])
    expect(p.read('cards/coffee-member.yaml').split('\n')[line - 1]).toContain('need_balance: false')
    const a = await applyAll()
    expect(a.code).toBe(1)
    expect(a.stdout).toContain('error[plan-has-errors]')
  })

  it('switching a one-way field on needs --allow-irreversible or a saved plan that showed it', async () => {
    const refused = await p.cli(['apply', '--auto-approve'])
    expect(refused.code).toBe(1)
    expect(refused.stdout).toContain('error[irreversible-unacknowledged]')
    expect(liveCards(p.emulator)).toHaveLength(0)
    const planFile = path.join(p.dir, 'plan.json')
    const saved = await p.cli(['plan', '--out', planFile])
    expect(saved.stdout).toContain('! MemberCard.coffee-member: balance_information.need_balance will be switched on and can never be switched off')
    const applied = await p.cli(['apply', planFile])
    expect(applied.code, applied.stdout + applied.stderr).toBe(0)
    expect(liveCards(p.emulator)).toHaveLength(4)
  })

  it('an immutable change plans replace; apply refuses it without --allow-destroy', async () => {
    await applyAll()
    const oldId = p.state().resources['BrandMemberCard.fitness-plus']!.remote_id!
    p.edit('cards/brand-cards.yaml', 'code_type: QR_CODE', 'code_type: BAR_CODE')
    const r = await p.cli(['plan'])
    expect(r.stdout).toContain('-/+ BrandMemberCard "fitness-plus"')
    expect(r.stdout).toContain('~ code_type: "QR_CODE" → "BAR_CODE"  # forces replacement')
    expect(r.stdout).toContain('! BrandMemberCard.fitness-plus will be replaced')
    const refused = await p.cli(['apply', '--auto-approve'])
    expect(refused.code).toBe(1)
    expect(refused.stdout).toContain('error[destroy-refused]')
    expect(p.emulator.admin.getCard(oldId)!.card.state).toBe('CARD_EFFECTIVE')
    expect((await applyAll()).code).toBe(0)
    const newId = p.state().resources['BrandMemberCard.fitness-plus']!.remote_id!
    expect(newId).not.toBe(oldId)
    expect(p.emulator.admin.getCard(oldId)!.card.state).toBe('CARD_INVALID')
    expect(p.emulator.admin.getCard(newId)!.card.code_type).toBe('BAR_CODE')
  })

  it('removing cards plans delete (membercard-open) and invalidate (brand); apply refuses both without --allow-destroy', async () => {
    await applyAll()
    const ids = Object.fromEntries(Object.entries(p.state().resources).map(([a, r]) => [a, r.remote_id!]))
    p.write('cards/bookstore-reader.yaml', '')
    const brand = p.read('cards/brand-cards.yaml')
    p.write('cards/brand-cards.yaml', brand.slice(0, brand.indexOf('\n---')) + '\n')
    const plan = await planJson()
    expect(plan.changes.find((c) => c.address === 'MemberCard.bookstore-reader')).toMatchObject({action: 'delete', reason: 'removed-from-config', destructive: true})
    expect(plan.changes.find((c) => c.address === 'BrandMemberCard.fitness-plus')).toMatchObject({action: 'invalidate', destructive: true})
    const refused = await p.cli(['apply', '--auto-approve', '--allow-irreversible'])
    expect(refused.code).toBe(1)
    expect(refused.stdout).toContain('error[destroy-refused]')
    expect(liveCards(p.emulator)).toHaveLength(4)
    expect((await applyAll()).code).toBe(0)
    expect(liveCards(p.emulator).map((c) => c.card_id).sort()).toEqual([ids['BrandMemberCard.fitness-basic'], ids['MemberCard.coffee-member']].sort())
    expect(Object.keys(p.state().resources)).toHaveLength(2)
  })

  it('refuses a stale saved plan, saying what moved', async () => {
    await applyAll()
    p.edit('cards/bookstore-reader.yaml', 'title: 页间读者卡', 'title: 页间读者会员卡')
    const planFile = path.join(p.dir, 'plan.json')
    await p.cli(['plan', '--out', planFile])
    const id = p.state().resources['MemberCard.bookstore-reader']!.remote_id!
    await p.emulator.admin.mutateCard(id, {description: '有人在商户平台改了说明'})
    const r = await p.cli(['apply', planFile])
    expect(r.code).toBe(1)
    expect(r.stdout).toContain('error[stale-plan]: MemberCard.bookstore-reader: card')
    expect(r.stdout).toContain('changed since the plan was made')
    expect(p.emulator.admin.getCard(id)!.card.title).toBe('页间读者卡')

    // The state moving (another apply) makes it stale too.
    const planFile2 = path.join(p.dir, 'plan2.json')
    await p.cli(['plan', '--out', planFile2])
    expect((await applyAll()).code).toBe(0)
    const r2 = await p.cli(['apply', planFile2])
    expect(r2.code).toBe(1)
    expect(r2.stdout).toMatch(/error\[stale-plan\]: the state moved since the plan was made \(serial \d+ → \d+\)/)
  })

  it('refuses a corrupt state file and leaves it byte-for-byte untouched', async () => {
    await applyAll()
    const file = path.join(p.dir, '.cardform/state.json')
    const corrupt = readFileSync(file, 'utf8').slice(0, 200)
    p.write('.cardform/state.json', corrupt)
    for (const args of [['plan'], ['apply', '--auto-approve']]) {
      const r = await p.cli(args)
      expect(r.code).toBe(1)
      expect(r.stderr).toContain('error[state-corrupt]: state at .cardform/state.json is unreadable')
      expect(readFileSync(file, 'utf8')).toBe(corrupt)
    }
  })
})
