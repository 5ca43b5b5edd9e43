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

/** Requests made since `before`, by route, counting only routes that grew. */
function requestsSince(before: Record<string, number>): Record<string, number> {
  const after = p.emulator.admin.stats().by_route
  return Object.fromEntries(Object.entries(after).flatMap(([k, v]) => (v > (before[k] ?? 0) ? [[k, v - (before[k] ?? 0)]] : [])))
}

const count = (reqs: Record<string, number>, method: string) =>
  Object.entries(reqs).reduce((n, [route, v]) => n + (route.startsWith(`${method} `) ? v : 0), 0)

/** Edit two of the four quickstart cards: the bookstore card's title, the basic fitness card's title. */
function editTwo() {
  p.edit('cards/bookstore-reader.yaml', 'title: 页间读者卡', 'title: 页间读者会员卡')
  p.edit('cards/brand-cards.yaml', 'card_title: 动力健身会员', 'card_title: 动力健身会员卡')
}

const ids = () => Object.fromEntries(Object.entries(p.state().resources).map(([a, r]) => [a, r.remote_id!]))

describe('--target and --exclude', () => {
  it('apply --target updates only the targeted card, keeps every other card in state, and the rest stays pending', async () => {
    expect((await applyAll()).code).toBe(0)
    const id = ids()
    editTwo()
    const before = p.state()
    const stats = p.emulator.admin.stats().by_route
    const r = await p.cli(['apply', '--auto-approve', '--target', 'MemberCard.bookstore-reader'])
    expect(r.code, r.stdout + r.stderr).toBe(0)
    expect(r.stdout).toMatch(/warning\[targeting-in-effect\]: Resource targeting is in effect \(--target MemberCard\.bookstore-reader\): the plan may be incomplete; .*not routine use/)
    expect(r.stdout).toContain('Targeted plan (--target MemberCard.bookstore-reader): cards outside it were neither read nor planned.')
    expect(r.stdout).toContain('Plan: 0 to create, 1 to update, 0 to replace, 0 to delete, 0 to invalidate.')
    expect(r.stdout).toContain('Apply complete: 1 card changed, 0 failed.')
    expect(r.stdout).toContain('Resource targeting was in effect: only the selected cards were applied')

    // The API saw one GET (the target) and one PATCH (the target), nothing else.
    const reqs = requestsSince(stats)
    expect(reqs).toEqual({'GET /v3/marketing/membercard-open/cards/{card_id}': 1, 'PATCH /v3/marketing/membercard-open/cards/{card_id}': 1})
    expect(p.emulator.admin.getCard(id['MemberCard.bookstore-reader']!)!.card.title).toBe('页间读者会员卡')
    expect(p.emulator.admin.getCard(id['BrandMemberCard.fitness-basic']!)!.card.card_title).toBe('动力健身会员')

    // The state written back is the full document: the three other cards are there, untouched.
    const after = p.state()
    expect(Object.keys(after.resources).sort()).toEqual(Object.keys(before.resources).sort())
    for (const a of ['BrandMemberCard.fitness-basic', 'BrandMemberCard.fitness-plus', 'MemberCard.coffee-member']) {
      expect(after.resources[a]).toEqual(before.resources[a])
    }
    expect(after.resources['MemberCard.bookstore-reader']!.applied.title).toBe('页间读者会员卡')
    expect(after.serial).toBeGreaterThan(before.serial)

    // A full plan still has the untargeted edit to make, and nothing to create.
    const full = await planJson()
    expect(full.changes.filter((c) => c.action !== 'no-op').map((c) => [c.address, c.action, c.reason])).toEqual([
      ['BrandMemberCard.fitness-basic', 'update', 'changed-in-config'],
    ])
    expect(full.targets).toBeUndefined()
    expect(full.diagnostics.map((d) => d.code)).not.toContain('targeting-in-effect')
  })

  it('apply --exclude leaves the excluded cards alone', async () => {
    expect((await applyAll()).code).toBe(0)
    const id = ids()
    editTwo()
    const stats = p.emulator.admin.stats().by_route
    const r = await p.cli(['apply', '--auto-approve', '--exclude', 'BrandMemberCard.*'])
    expect(r.code, r.stdout + r.stderr).toBe(0)
    expect(r.stdout).toContain('warning[targeting-in-effect]')
    expect(r.stdout).toContain('Targeted plan (--exclude BrandMemberCard.*)')
    const reqs = requestsSince(stats)
    expect(count(reqs, 'PATCH')).toBe(1)
    expect(reqs['PATCH /v3/marketing/membercard-open/cards/{card_id}']).toBe(1)
    // Only the two MemberCards were read: one list page holds both (refresh by list), no brand route was called.
    expect(reqs['GET /v3/marketing/membercard-open/cards']).toBe(1)
    expect(count(reqs, 'GET')).toBe(1)
    expect(p.emulator.admin.getCard(id['MemberCard.bookstore-reader']!)!.card.title).toBe('页间读者会员卡')
    expect(p.emulator.admin.getCard(id['BrandMemberCard.fitness-basic']!)!.card.card_title).toBe('动力健身会员')
    expect(Object.keys(p.state().resources)).toHaveLength(4)
    const full = await planJson()
    expect(full.changes.filter((c) => c.action !== 'no-op').map((c) => c.address)).toEqual(['BrandMemberCard.fitness-basic'])
  })

  it('a targeted plan reads only the target, and globs select by kind and name', async () => {
    expect((await applyAll()).code).toBe(0)
    editTwo()
    let stats = p.emulator.admin.stats().by_route
    const one = await p.cli(['plan', '--target', '*.fitness-basic', '--detailed-exitcode'])
    expect(one.code, one.stdout + one.stderr).toBe(2)
    expect(count(requestsSince(stats), 'GET')).toBe(1)
    expect(one.stdout).toContain('~ card_title: "动力健身会员" → "动力健身会员卡"')
    expect(one.stdout).not.toContain('bookstore-reader')

    stats = p.emulator.admin.stats().by_route
    const fitness = await planJson(['--target', 'BrandMemberCard.fitness-*'])
    // Two cards of one brand: one page of that brand's list reads both, cheaper than two GETs.
    expect(requestsSince(stats)).toEqual({'GET /v3/brand/partner/card-member/cards': 1})
    expect(fitness.targets).toEqual(['BrandMemberCard.fitness-*'])
    expect(fitness.changes.map((c) => c.address)).toEqual(['BrandMemberCard.fitness-basic', 'BrandMemberCard.fitness-plus'])
    expect(fitness.diagnostics.filter((d) => d.code === 'targeting-in-effect')).toHaveLength(1)
    expect(fitness.mode).toBe('normal')

    const two = await planJson(['--target', 'MemberCard.*', '--target', 'BrandMemberCard.fitness-basic', '--exclude', 'MemberCard.coffee-?ember'])
    expect(two.changes.map((c) => c.address)).toEqual(['BrandMemberCard.fitness-basic', 'MemberCard.bookstore-reader'])
    expect(two.excludes).toEqual(['MemberCard.coffee-?ember'])

    const md = await p.cli(['plan', '--markdown', '--target', 'MemberCard.*'])
    expect(md.stdout).toContain('Targeted plan (`--target MemberCard.*`): cards outside it were neither read nor planned.')
    expect(md.stdout).toMatch(/- `targeting-in-effect` Resource targeting is in effect/)
  })

  it('a pattern that matches no card is an error (exit 1) naming the closest addresses; a pattern without a dot is a usage error', async () => {
    expect((await applyAll()).code).toBe(0)
    const stats = p.emulator.admin.stats().by_route
    const r = await p.cli(['plan', '--target', 'MemberCard.cofee-member'])
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(/error\[target-matches-nothing\]: --target MemberCard\.cofee-member matches no card in the specs or the state; the closest addresses are MemberCard\.coffee-member/)
    expect(count(requestsSince(stats), 'GET')).toBe(0)
    const ex = await p.cli(['apply', '--auto-approve', '--exclude', 'MemberCard.nothing-like-this'])
    expect(ex.code).toBe(1)
    expect(ex.stdout).toContain('error[exclude-matches-nothing]: --exclude MemberCard.nothing-like-this matches no card')
    expect(ex.stdout).toContain('error[plan-has-errors]')
    const usage = await p.cli(['plan', '--target', 'coffee-member'])
    expect(usage.code).toBe(2)
    expect(usage.stderr).toMatch(/"coffee-member" is not a card address pattern/)
  })

  it('a saved targeted plan applies only its cards, and takes no --target of its own', async () => {
    expect((await applyAll()).code).toBe(0)
    const id = ids()
    editTwo()
    // A field the API cannot clear, dropped from an untargeted spec: a full apply would write that to state.
    p.edit('cards/brand-cards.yaml', '  service_phone: 021-6288-5566\n', '')
    const full = await planJson()
    expect(full.diagnostics.map((d) => d.code)).toContain('unset-unsupported')
    const planFile = path.join(p.dir, 'plan.json')
    const saved = await p.cli(['plan', '--target', 'MemberCard.bookstore-reader', '--out', planFile])
    expect(saved.code, saved.stdout + saved.stderr).toBe(0)
    const refused = await p.cli(['apply', planFile, '--target', 'MemberCard.coffee-member'])
    expect(refused.code).toBe(1)
    expect(refused.stdout).toContain('error[saved-plan-targeting]')
    const before = p.state()
    const stats = p.emulator.admin.stats().by_route
    const r = await p.cli(['apply', planFile])
    expect(r.code, r.stdout + r.stderr).toBe(0)
    expect(r.stdout).toContain('warning[targeting-in-effect]')
    expect(count(requestsSince(stats), 'PATCH')).toBe(1)
    expect(p.emulator.admin.getCard(id['MemberCard.bookstore-reader']!)!.card.title).toBe('页间读者会员卡')
    const after = p.state()
    expect(after.resources['BrandMemberCard.fitness-basic']).toEqual(before.resources['BrandMemberCard.fitness-basic'])
    expect(after.resources['BrandMemberCard.fitness-basic']!.applied.service_phone).toBe('021-6288-5566')
    expect(Object.keys(after.resources)).toHaveLength(4)
  })
})
