import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import path from 'node:path'
import {createProject, type TestProject} from './project.js'

let p: TestProject
beforeEach(async () => {
  p = await createProject()
})
afterEach(async () => {
  await p.close()
})

const applyAll = () => p.cli(['apply', '--auto-approve', '--allow-irreversible', '--allow-destroy'])

const planJson = (args: string[] = []) => p!.planJson(args)

/** Requests other than GET made since `before` (by route). */
function writesSince(before: Record<string, number>): Record<string, number> {
  const after = p.emulator.admin.stats().by_route
  return Object.fromEntries(Object.entries(after).flatMap(([k, v]) => (!k.startsWith('GET ') && v > (before[k] ?? 0) ? [[k, v - (before[k] ?? 0)]] : [])))
}

const idOf = (address: string) => p.state().resources[address]!.remote_id!

describe('--refresh-only', () => {
  it('shows a console edit as drift, records it in state with no API write, and the next plan restores the spec value as a change in config', async () => {
    expect((await applyAll()).code).toBe(0)
    const id = idOf('BrandMemberCard.fitness-basic')
    await p.emulator.admin.mutateCard(id, {card_title: '别人改的名字'})

    const shown = await p.cli(['plan', '--refresh-only', '--detailed-exitcode'])
    expect(shown.code, shown.stdout + shown.stderr).toBe(2)
    expect(shown.stdout).toContain('Cards changed outside cardform (drift):')
    expect(shown.stdout).toContain(`# BrandMemberCard.fitness-basic (card ${id}) was changed outside cardform`)
    expect(shown.stdout).toContain('~ card_title: "动力健身会员" → "别人改的名字"')
    expect(shown.stdout).toContain('Refresh-only: 1 card changed outside cardform; apply --refresh-only records their live values in state.')
    expect(shown.stdout).not.toContain('cardform will perform the following actions')

    const json = await planJson(['--refresh-only'])
    expect(json).toMatchObject({mode: 'refresh-only', changes: [], has_changes: true, has_drift: true, applyable: true})
    expect(json.drift).toHaveLength(1)
    expect(json.drift[0]).toMatchObject({address: 'BrandMemberCard.fitness-basic', type: 'modified', field_changes: [{path: 'card_title', source: 'drift'}]})
    expect(json.drift[0]!.live_fingerprint).toMatch(/^sha256:/)
    // A normal plan carries the drift in its own list too, apart from the config changes.
    const normal = await planJson()
    expect(normal).toMatchObject({mode: 'normal', has_drift: true})
    expect(normal.drift.map((d) => d.address)).toEqual(['BrandMemberCard.fitness-basic'])

    const serial = p.state().serial
    const stats = p.emulator.admin.stats().by_route
    const applied = await p.cli(['apply', '--refresh-only', '--auto-approve'])
    expect(applied.code, applied.stdout + applied.stderr).toBe(0)
    expect(applied.stdout).toContain('Refresh-only apply complete: 1 card recorded with its live values, 0 cards deleted outside cardform removed from state; no card was changed.')
    expect(writesSince(stats)).toEqual({})
    expect(p.emulator.admin.getCard(id)!.card.card_title).toBe('别人改的名字')
    const state = p.state()
    expect(state.serial).toBe(serial + 1)
    expect(state.resources['BrandMemberCard.fitness-basic']!.applied.card_title).toBe('别人改的名字')

    const after = await p.cli(['plan', '--refresh-only', '--detailed-exitcode'])
    expect(after.code, after.stdout + after.stderr).toBe(0)
    expect(after.stdout).toContain('No drift: the live cards match the state.')

    const restore = await planJson()
    expect(restore.has_drift).toBe(false)
    const c = restore.changes.find((x) => x.address === 'BrandMemberCard.fitness-basic')!
    expect(c).toMatchObject({action: 'update', reason: 'changed-in-config'})
    expect(c.field_changes).toEqual([{path: 'card_title', before: '别人改的名字', after: '动力健身会员', source: 'config'}])
    expect((await applyAll()).code).toBe(0)
    expect(p.emulator.admin.getCard(id)!.card.card_title).toBe('动力健身会员')
  })

  it('removes a card deleted in the console from state, and a normal plan then creates it anew', async () => {
    expect((await applyAll()).code).toBe(0)
    const id = idOf('MemberCard.bookstore-reader')
    await p.emulator.admin.mutateCard(id, {status: 'DELETED'})
    const shown = await p.cli(['plan', '--refresh-only', '--detailed-exitcode'])
    expect(shown.code).toBe(2)
    expect(shown.stdout).toContain(`# MemberCard.bookstore-reader (card ${id}) was deleted outside cardform`)
    expect(shown.stdout).toContain('apply --refresh-only removes it from state')
    expect(shown.stdout).toContain('Refresh-only: 1 card changed outside cardform; apply --refresh-only records their live values in state. It was deleted and leaves the state.')
    const stats = p.emulator.admin.stats().by_route
    const applied = await p.cli(['apply', '--refresh-only', '--auto-approve'])
    expect(applied.code, applied.stdout + applied.stderr).toBe(0)
    expect(applied.stdout).toContain('0 cards recorded with their live values, 1 card deleted outside cardform removed from state')
    expect(writesSince(stats)).toEqual({})
    expect(Object.keys(p.state().resources).sort()).toEqual(['BrandMemberCard.fitness-basic', 'BrandMemberCard.fitness-plus', 'MemberCard.coffee-member'])
    expect((await p.cli(['plan', '--refresh-only', '--detailed-exitcode'])).code).toBe(0)
    const next = await planJson()
    expect(next.changes.find((c) => c.address === 'MemberCard.bookstore-reader')).toMatchObject({action: 'create', reason: 'new-in-config'})
  })

  it('writes no state when there is no drift, and needs approval like any apply', async () => {
    expect((await applyAll()).code).toBe(0)
    const serial = p.state().serial
    const none = await p.cli(['apply', '--refresh-only', '--auto-approve'])
    expect(none.code, none.stdout + none.stderr).toBe(0)
    expect(none.stdout).toContain('No drift: the live cards match the state.')
    expect(none.stdout).toContain('Refresh-only apply complete: nothing to record; no card was changed.')
    expect(p.state().serial).toBe(serial)

    await p.emulator.admin.mutateCard(idOf('MemberCard.coffee-member'), {title: '改过的咖啡卡'})
    const unapproved = await p.cli(['apply', '--refresh-only'])
    expect(unapproved.code).toBe(1)
    expect(unapproved.stdout).toContain('error[approval-required]')
    expect(p.state().serial).toBe(serial)
  })

  it('a saved refresh-only plan is applied with --refresh-only only, and refused when a card moved since', async () => {
    expect((await applyAll()).code).toBe(0)
    const id = idOf('BrandMemberCard.fitness-basic')
    await p.emulator.admin.mutateCard(id, {card_title: '第一次改'})
    const planFile = path.join(p.dir, 'refresh.json')
    const saved = await p.cli(['plan', '--refresh-only', '--out', planFile])
    expect(saved.stdout).toContain(`Apply exactly it with: cardform apply --refresh-only ${planFile}`)
    const serial = p.state().serial

    const wrongMode = await p.cli(['apply', planFile])
    expect(wrongMode.code).toBe(1)
    expect(wrongMode.stdout).toContain(`error[plan-mode-mismatch]: ${planFile} is a refresh-only plan`)

    await p.emulator.admin.mutateCard(id, {card_title: '第二次改'})
    const stale = await p.cli(['apply', '--refresh-only', planFile])
    expect(stale.code).toBe(1)
    expect(stale.stdout).toContain(`error[stale-plan]: BrandMemberCard.fitness-basic: card ${id} changed again since the plan was made`)
    expect(p.state().serial).toBe(serial)
    expect(p.state().resources['BrandMemberCard.fitness-basic']!.applied.card_title).toBe('动力健身会员')

    const fresh = path.join(p.dir, 'refresh2.json')
    await p.cli(['plan', '--refresh-only', '--out', fresh])
    const stats = p.emulator.admin.stats().by_route
    const ok = await p.cli(['apply', '--refresh-only', fresh])
    expect(ok.code, ok.stdout + ok.stderr).toBe(0)
    expect(writesSince(stats)).toEqual({})
    expect(p.state().serial).toBe(serial + 1)
    expect(p.state().resources['BrandMemberCard.fitness-basic']!.applied.card_title).toBe('第二次改')
    // Applied once, the same saved plan is stale (the state moved).
    expect((await p.cli(['apply', '--refresh-only', fresh])).stdout).toContain('error[stale-plan]: the state moved since the plan was made')

    const normalFile = path.join(p.dir, 'normal.json')
    await p.cli(['plan', '--out', normalFile])
    const wrongWay = await p.cli(['apply', '--refresh-only', normalFile])
    expect(wrongWay.code).toBe(1)
    expect(wrongWay.stdout).toContain(`error[plan-mode-mismatch]: ${normalFile} is a normal plan`)
    expect(p.emulator.admin.getCard(id)!.card.card_title).toBe('第二次改')
  })

  it('combines with --target: only the targeted card is read and recorded', async () => {
    expect((await applyAll()).code).toBe(0)
    await p.emulator.admin.mutateCard(idOf('BrandMemberCard.fitness-basic'), {card_title: '别人改的名字'})
    await p.emulator.admin.mutateCard(idOf('MemberCard.coffee-member'), {title: '改过的咖啡卡'})
    const stats = p.emulator.admin.stats().by_route
    const r = await p.cli(['apply', '--refresh-only', '--auto-approve', '--target', 'MemberCard.*'])
    expect(r.code, r.stdout + r.stderr).toBe(0)
    const gets = Object.fromEntries(Object.entries(p.emulator.admin.stats().by_route).flatMap(([k, v]) => (k.startsWith('GET ') && v > (stats[k] ?? 0) ? [[k, v - (stats[k] ?? 0)]] : [])))
    // Both MemberCards from one list page (refresh by list); no brand card route was called.
    expect(gets).toEqual({'GET /v3/marketing/membercard-open/cards': 1})
    const state = p.state()
    expect(state.resources['MemberCard.coffee-member']!.applied.title).toBe('改过的咖啡卡')
    expect(state.resources['BrandMemberCard.fitness-basic']!.applied.card_title).toBe('动力健身会员')
    const rest = await planJson(['--refresh-only'])
    expect(rest.drift.map((d) => d.address)).toEqual(['BrandMemberCard.fitness-basic'])
  })
})
