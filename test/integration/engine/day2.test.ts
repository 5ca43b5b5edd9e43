import {readFileSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {QueryResult} from '../../../engine/adopt/query-live.js'
import {packageRoot} from '../../../engine/paths.js'
import {Console, specsOf} from './console.js'
import {createProject, liveCards, type TestProject} from './project.js'

/**
 * Day 2 as a team with cards made in the merchant console lives it, end to end over the emulator: twelve cards of
 * both families made outside cardform, adopted with `query --out`, then renamed (state mv and moved_from), one
 * forgotten, one protected, a console edit ignored, one card targeted, and drift accepted with --refresh-only. After
 * every step the emulator is checked too: no card is ever created, deleted or invalidated by cardform here.
 */
const BRAND = '1004582931'
let p: TestProject
let consoleApi: Console
const ids: string[] = []
/** The query result that wrote the specs: card_id → its spec file (relative to the project) and name. */
const files = new Map<string, {file: string; name: string; kind: string}>()

const quickstart = (file: string) => readFileSync(path.join(packageRoot, 'examples/quickstart/cards', file), 'utf8')
const cardWrites = () =>
  Object.entries(p.emulator.admin.stats().by_route)
    .filter(([route]) => !route.startsWith('GET') && !route.includes('__admin'))
    .reduce((n, [, c]) => n + (c ?? 0), 0)
const fileOf = (id: string) => files.get(id)!
const addressOf = (id: string) => `${fileOf(id).kind}.${fileOf(id).name}`

/** Nothing created, deleted or invalidated on the emulator: the twelve console cards, all live. */
function expectTwelveLive(): void {
  expect(p.emulator.admin.stats().cards_created).toBe(12)
  expect(liveCards(p.emulator).map((c) => c.card_id).sort()).toEqual([...ids].sort())
}

const planJson = (args: string[] = []) => p.planJson(args)

beforeAll(async () => {
  p = await createProject({cards: {}})
  consoleApi = new Console(p.emulator)
  const reader = specsOf(quickstart('bookstore-reader.yaml')).get('bookstore-reader')!.spec
  const basic = specsOf(quickstart('brand-cards.yaml')).get('fitness-basic')!.spec
  for (let i = 0; i < 6; i++) ids.push(await consoleApi.create('MemberCard', {...reader, title: `读者卡${i}`}))
  for (let i = 0; i < 6; i++) ids.push(await consoleApi.create('BrandMemberCard', {...basic, card_title: `Fitness ${i}`}))
})

afterAll(async () => {
  await consoleApi.close()
  await p.close()
})

describe('day 2: adopt twelve console cards and operate them', () => {
  it('query --out writes twelve specs that plan as imports with zero field changes; apply records them and calls nothing', async () => {
    const r = await p.cli(['query', '--json', '--out', path.join(p.dir, 'cards/imported'), '--brand-id', BRAND])
    expect(r.code, r.stderr).toBe(0)
    const found = JSON.parse(r.stdout) as QueryResult
    expect(found.cards.map((c) => c.card_id).sort()).toEqual([...ids].sort())
    for (const c of found.cards) files.set(c.card_id, {file: path.relative(p.dir, c.file!), name: c.name, kind: c.kind})

    const plan = await planJson(['--detailed-exitcode'])
    expect(plan.summary).toMatchObject({create: 0, update: 0, import: 12})
    expect(plan.changes.every((c) => c.action === 'import' && c.field_changes.length === 0 && c.steps.length === 0)).toBe(true)
    const before = cardWrites()
    const applied = await p.cli(['apply', '--auto-approve'])
    expect(applied.code, applied.stdout + applied.stderr).toBe(0)
    expect(cardWrites()).toBe(before)
    expect(Object.values(p.state().resources).map((x) => x.remote_id).sort()).toEqual([...ids].sort())
    expect((await p.cli(['plan', '--detailed-exitcode'])).code).toBe(0)
    expectTwelveLive()
  })

  it('renames one card with state mv and another with moved_from: no destroy, no create', async () => {
    const [a, b] = [ids[0]!, ids[6]!]
    const {file: fileA, name: nameA, kind: kindA} = fileOf(a)
    const mv = await p.cli(['state', 'mv', addressOf(a), `${kindA}.reader-main`])
    expect(mv.code, mv.stderr).toBe(0)
    p.edit(fileA, `  name: ${nameA}\n`, '  name: reader-main\n')
    files.set(a, {file: fileA, name: 'reader-main', kind: kindA})

    const {file: fileB, name: nameB, kind: kindB} = fileOf(b)
    p.edit(fileB, `  name: ${nameB}\n`, `  name: gym-main\n  moved_from: ${nameB}\n`)
    files.set(b, {file: fileB, name: 'gym-main', kind: kindB})
    const shown = await p.cli(['plan', '--detailed-exitcode'])
    expect(shown.code, shown.stdout + shown.stderr).toBe(2)
    expect(shown.stdout).toContain(`# ${kindB}.${nameB} has moved to ${kindB}.gym-main`)
    expect(shown.stdout).toContain('Plan: 0 to create, 0 to update, 0 to replace, 0 to delete, 0 to invalidate, 1 to move.')
    const before = cardWrites()
    expect((await p.cli(['apply', '--auto-approve'])).code).toBe(0)
    expect(cardWrites()).toBe(before)
    const state = p.state()
    expect(state.resources[`${kindA}.reader-main`]!.remote_id).toBe(a)
    expect(state.resources[`${kindB}.gym-main`]!.remote_id).toBe(b)
    expect((await p.cli(['plan', '--detailed-exitcode'])).code).toBe(0)
    expectTwelveLive()
  })

  it('forgets a card whose spec is removed after lifecycle.destroy: false, and refuses to delete one with prevent_destroy', async () => {
    const [forgotten, kept] = [ids[1]!, ids[7]!]
    const addLifecycle = (id: string, line: string) => p.edit(fileOf(id).file, `  name: ${fileOf(id).name}\n`, `  name: ${fileOf(id).name}\n  lifecycle:\n    ${line}\n`)
    addLifecycle(forgotten, 'destroy: false')
    addLifecycle(kept, 'prevent_destroy: true')
    const recorded = await planJson()
    expect(recorded.summary.state_only).toBe(2)
    expect((await p.cli(['apply', '--auto-approve'])).code).toBe(0)

    const keptText = p.read(fileOf(kept).file)
    rmSync(path.join(p.dir, fileOf(forgotten).file))
    rmSync(path.join(p.dir, fileOf(kept).file))
    const refused = await p.cli(['apply', '--auto-approve', '--allow-destroy'])
    expect(refused.code).toBe(1)
    expect(refused.stdout).toContain(`error[prevent-destroy]: ${addressOf(kept)}: card ${kept} would be invalidated (removed from config), but lifecycle.prevent_destroy is set (remembered in state: the spec was removed)`)
    expectTwelveLive()

    writeFileSync(path.join(p.dir, fileOf(kept).file), keptText)
    const shown = await p.cli(['plan'])
    expect(shown.stdout).toContain(`forget ${fileOf(forgotten).kind} "${fileOf(forgotten).name}"`)
    const before = cardWrites()
    expect((await p.cli(['apply', '--auto-approve'])).code).toBe(0)
    expect(cardWrites()).toBe(before)
    expect(p.state().resources[addressOf(forgotten)]).toBeUndefined()
    expect((await p.cli(['plan', '--detailed-exitcode'])).code).toBe(0)
    expectTwelveLive()
  })

  it('ignores a console edit of an ignore_changes field', async () => {
    const id = ids[2]!
    p.edit(fileOf(id).file, `  name: ${fileOf(id).name}\n`, `  name: ${fileOf(id).name}\n  lifecycle:\n    ignore_changes: [description]\n`)
    expect((await p.cli(['apply', '--auto-approve'])).code).toBe(0)
    p.emulator.admin.mutateCard(id, {description: '门店经理在商户平台改了使用须知'})
    const r = await p.cli(['plan', '--detailed-exitcode'])
    expect(r.code, r.stdout).toBe(0)
    expect(p.emulator.admin.getCard(id)!.card.description).toBe('门店经理在商户平台改了使用须知')
  })

  it('applies one targeted card and leaves the other edit pending', async () => {
    const [x, y] = [ids[3]!, ids[4]!]
    p.edit(fileOf(x).file, 'title: 读者卡3', 'title: 读者金卡3')
    p.edit(fileOf(y).file, 'title: 读者卡4', 'title: 读者金卡4')
    const before = cardWrites()
    const r = await p.cli(['apply', '--auto-approve', '--target', addressOf(x)])
    expect(r.code, r.stdout + r.stderr).toBe(0)
    expect(r.stdout).toContain('targeting-in-effect')
    expect(cardWrites() - before).toBe(1)
    expect(p.emulator.admin.getCard(x)!.card.title).toBe('读者金卡3')
    expect(p.emulator.admin.getCard(y)!.card.title).toBe('读者卡4')
    const pending = await planJson()
    expect(pending.changes.filter((c) => c.action !== 'no-op').map((c) => c.address)).toEqual([addressOf(y)])
    expect((await p.cli(['apply', '--auto-approve'])).code).toBe(0)
    expectTwelveLive()
  })

  it('--refresh-only: exit 2 on drift, accepts it without an API write, then exit 0', async () => {
    const id = ids[8]!
    p.emulator.admin.mutateCard(id, {card_title: '商户平台改名'})
    const drift = await p.cli(['plan', '--refresh-only', '--detailed-exitcode'])
    expect(drift.code, drift.stdout + drift.stderr).toBe(2)
    expect(drift.stdout).toContain('~ card_title: "Fitness 2" → "商户平台改名"')
    const before = cardWrites()
    expect((await p.cli(['apply', '--refresh-only', '--auto-approve'])).code).toBe(0)
    expect(cardWrites()).toBe(before)
    expect((await p.cli(['plan', '--refresh-only', '--detailed-exitcode'])).code).toBe(0)
    // The spec still says "Fitness 2": a normal plan now shows that as a change in config.
    const plan = await planJson()
    const c = plan.changes.find((x) => x.remote_id === id)!
    expect(c.reason).toBe('changed-in-config')
    expectTwelveLive()
  })
})
