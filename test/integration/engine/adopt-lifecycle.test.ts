import {readFileSync, rmSync} from 'node:fs'
import path from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {packageRoot} from '../../../engine/paths.js'
import {Console, specsOf} from './console.js'
import {createProject, liveCards, type TestProject} from './project.js'

let p: TestProject | undefined
let consoleApi: Console | undefined
afterEach(async () => {
  await consoleApi?.close()
  await p?.close()
  p = undefined
  consoleApi = undefined
})

const quickstart = (file: string) => readFileSync(path.join(packageRoot, 'examples/quickstart/cards', file), 'utf8')
const applyAll = (extra: string[] = []) => p!.cli(['apply', '--auto-approve', '--allow-irreversible', ...extra])
const writes = () => {
  const by = p!.emulator.admin.stats().by_route
  return Object.entries(by)
    .filter(([route]) => !route.startsWith('GET') && !route.includes('__admin'))
    .reduce((n, [, c]) => n + (c ?? 0), 0)
}

const planJson = (args: string[] = []) => p!.planJson(args)

/** The quickstart document of `name`, with extra metadata lines (indented under metadata:). */
function withMetadata(yamlText: string, name: string, lines: string[]): string {
  return yamlText.replace(`  name: ${name}\n`, `  name: ${name}\n${lines.map((l) => `  ${l}\n`).join('')}`)
}

describe('adopting existing cards', () => {
  it('declarative import: plan shows `= import` with only the fields that differ; apply records the cards and creates nothing', async () => {
    p = await createProject({cards: {}})
    consoleApi = new Console(p.emulator)
    const reader = specsOf(quickstart('bookstore-reader.yaml')).get('bookstore-reader')!
    const basic = specsOf(quickstart('brand-cards.yaml')).get('fitness-basic')!
    const readerId = await consoleApi.create('MemberCard', {...reader.spec, title: '旧读者卡'})
    const basicId = await consoleApi.create('BrandMemberCard', basic.spec)
    // The console card has the picture's URL, so the spec names it too (not the quickstart's local file).
    const basicDoc = quickstart('brand-cards.yaml').split('\n---\n')[0]!.replace('{file: assets/fitness-card.png}', basic.spec.card_picture_url as string)
    p.write('cards/reader.yaml', withMetadata(quickstart('bookstore-reader.yaml'), 'bookstore-reader', [`import_id: ${readerId}`]))
    p.write('cards/basic.yaml', withMetadata(basicDoc, 'fitness-basic', [`import_id: ${basicId}`]))

    const shown = await p.cli(['plan', '--detailed-exitcode'])
    expect(shown.code, shown.stdout + shown.stderr).toBe(2)
    expect(shown.stdout).toContain(`# MemberCard.bookstore-reader (card ${readerId}) will be imported, then updated in place: metadata.import_id adopts an existing card`)
    expect(shown.stdout).toContain('= MemberCard "bookstore-reader"')
    expect(shown.stdout).toContain('~ title: "旧读者卡" → "页间读者卡"')
    expect(shown.stdout).toContain(`# BrandMemberCard.fitness-basic (card ${basicId}) will be imported: metadata.import_id adopts an existing card`)
    expect(shown.stdout).toContain('Plan: 0 to create, 0 to update, 0 to replace, 0 to delete, 0 to invalidate, 2 to import.')
    const plan = await planJson()
    expect(plan.changes.map((c) => [c.address, c.action, c.reason, c.field_changes.length])).toEqual([
      ['BrandMemberCard.fitness-basic', 'import', 'import-requested', 0],
      ['MemberCard.bookstore-reader', 'import', 'import-requested', 1],
    ])

    const createdBefore = p.emulator.admin.stats().cards_created
    const writesBefore = writes()
    const applied = await applyAll()
    expect(applied.code, applied.stdout + applied.stderr).toBe(0)
    expect(p.emulator.admin.stats().cards_created).toBe(createdBefore)
    expect(writes() - writesBefore).toBe(1) // the one PATCH of the title
    expect(p.emulator.admin.getCard(readerId)!.card.title).toBe('页间读者卡')
    const state = p.state()
    expect(state.resources['MemberCard.bookstore-reader']!.remote_id).toBe(readerId)
    expect(state.resources['BrandMemberCard.fitness-basic']!.remote_id).toBe(basicId)
    const again = await p.cli(['plan', '--detailed-exitcode'])
    expect(again.code, again.stdout).toBe(0)
    expect(liveCards(p.emulator)).toHaveLength(2)
  })

  it('refuses an import_id that does not exist or is already managed, with file:line:column', async () => {
    p = await createProject({cards: {}})
    p.write('cards/reader.yaml', withMetadata(quickstart('bookstore-reader.yaml'), 'bookstore-reader', ['import_id: no-such-card']))
    const missing = await p.cli(['plan'])
    expect(missing.code).toBe(1)
    expect(missing.stdout).toMatch(/cards\/reader\.yaml:7:14: error\[import-not-found\]: MemberCard\.bookstore-reader: card no-such-card named by metadata\.import_id cannot be imported/)
    const saved = await p.cli(['plan', '--out', path.join(p.dir, 'plan.json')])
    expect(saved.code).toBe(1)

    p.write('cards/reader.yaml', quickstart('bookstore-reader.yaml'))
    expect((await applyAll()).code).toBe(0)
    const id = p.state().resources['MemberCard.bookstore-reader']!.remote_id!
    p.write('cards/twin.yaml', withMetadata(quickstart('bookstore-reader.yaml'), 'bookstore-reader', [`import_id: ${id}`]).replace('name: bookstore-reader', 'name: reader-twin'))
    const twin = await p.cli(['plan'])
    expect(twin.code).toBe(1)
    expect(twin.stdout).toContain(`error[import-already-managed]: MemberCard.reader-twin: metadata.import_id names card ${id}, which state already manages as MemberCard.bookstore-reader`)
  })

  it('imperative import records the card under an address whose spec exists; the next plan shows the differences', async () => {
    p = await createProject({cards: {}})
    consoleApi = new Console(p.emulator)
    const reader = specsOf(quickstart('bookstore-reader.yaml')).get('bookstore-reader')!
    const id = await consoleApi.create('MemberCard', {...reader.spec, description: '后台写的说明'})
    const noSpec = await p.cli(['import', 'MemberCard.bookstore-reader', id])
    expect(noSpec.code).toBe(1)
    expect(noSpec.stderr).toContain('error[import-no-spec]: MemberCard.bookstore-reader has no spec in the project')
    p.write('cards/reader.yaml', quickstart('bookstore-reader.yaml'))
    const imported = await p.cli(['import', 'MemberCard.bookstore-reader', id])
    expect(imported.code, imported.stderr).toBe(0)
    expect(imported.stdout).toContain(`Imported card ${id} as MemberCard.bookstore-reader`)
    const plan = await planJson()
    const c = plan.changes.find((x) => x.address === 'MemberCard.bookstore-reader')!
    expect(c).toMatchObject({action: 'update', reason: 'changed-in-config', remote_id: id})
    expect(c.field_changes.map((f) => [f.path, f.before, f.source])).toEqual([['description', '后台写的说明', 'config']])
    const twice = await p.cli(['import', 'MemberCard.bookstore-reader', id])
    expect(twice.code).toBe(1)
    expect(twice.stderr).toContain('error[import-address-taken]')
    expect(p.emulator.admin.stats().cards_created).toBe(1)
  })
})

describe('renames and lifecycle', () => {
  it('moved_from moves state with no API call; the next plan has no changes', async () => {
    p = await createProject()
    expect((await applyAll()).code).toBe(0)
    const id = p.state().resources['MemberCard.coffee-member']!.remote_id!
    p.edit('cards/coffee-member.yaml', '  name: coffee-member\n', '  name: coffee-gold\n  moved_from: coffee-member\n')
    const shown = await p.cli(['plan', '--detailed-exitcode'])
    expect(shown.code, shown.stdout + shown.stderr).toBe(2)
    expect(shown.stdout).toContain('# MemberCard.coffee-member has moved to MemberCard.coffee-gold')
    expect(shown.stdout).toContain('moved MemberCard "coffee-gold"')
    expect(shown.stdout).toContain('1 to move')
    expect(shown.stdout).not.toContain('will be deleted')
    const before = writes()
    expect((await applyAll()).code).toBe(0)
    expect(writes()).toBe(before)
    const state = p.state()
    expect(state.resources['MemberCard.coffee-gold']!.remote_id).toBe(id)
    expect(state.resources['MemberCard.coffee-member']).toBeUndefined()
    expect(state.generations['MemberCard.coffee-gold']).toBe(1)
    expect((await p.cli(['plan', '--detailed-exitcode'])).code).toBe(0)
  })

  it('prevent_destroy from ${env:…} blocks a replacement even with --allow-destroy, and still holds after the spec is removed', async () => {
    p = await createProject()
    p.edit('cards/bookstore-reader.yaml', '  name: bookstore-reader\n', '  name: bookstore-reader\n  lifecycle:\n    prevent_destroy: ${env:PROTECT_CARDS}\n')
    const env = {PROTECT_CARDS: 'true'}
    expect((await p.cli(['apply', '--auto-approve', '--allow-irreversible'], {env})).code).toBe(0)
    const id = p.state().resources['MemberCard.bookstore-reader']!.remote_id!
    expect(p.state().resources['MemberCard.bookstore-reader']!.lifecycle).toEqual({prevent_destroy: true})
    p.edit('cards/bookstore-reader.yaml', 'brand_id: "1002731855"', 'brand_id: "1009999999"')
    const refused = await p.cli(['apply', '--auto-approve', '--allow-destroy'], {env})
    expect(refused.code).toBe(1)
    expect(refused.stdout).toMatch(/cards\/bookstore-reader\.yaml:8:22: error\[prevent-destroy\]: MemberCard\.bookstore-reader: card \S+ must be replaced \(forced by brand\.brand_id\), but lifecycle\.prevent_destroy is set/)
    rmSync(path.join(p.dir, 'cards/bookstore-reader.yaml'))
    const removed = await p.cli(['apply', '--auto-approve', '--allow-destroy'], {env})
    expect(removed.code).toBe(1)
    expect(removed.stdout).toContain('(remembered in state: the spec was removed)')
    expect(p.emulator.admin.getCard(id)!.card.status).toBe('APPROVED')
  })

  it('destroy: false turns removal into forget: the live card stays, state lets go', async () => {
    p = await createProject()
    p.edit('cards/bookstore-reader.yaml', '  name: bookstore-reader\n', '  name: bookstore-reader\n  lifecycle:\n    destroy: false\n')
    expect((await applyAll()).code).toBe(0)
    const id = p.state().resources['MemberCard.bookstore-reader']!.remote_id!
    rmSync(path.join(p.dir, 'cards/bookstore-reader.yaml'))
    const shown = await p.cli(['plan'])
    expect(shown.stdout).toContain('# MemberCard.bookstore-reader (card ' + id + ') will no longer be managed by cardform (the live card stays): removed from config')
    expect(shown.stdout).toContain('forget MemberCard "bookstore-reader"')
    expect(shown.stdout).not.toContain('--allow-destroy')
    const before = writes()
    const applied = await applyAll()
    expect(applied.code, applied.stdout).toBe(0)
    expect(writes()).toBe(before)
    expect(p.state().resources['MemberCard.bookstore-reader']).toBeUndefined()
    expect(p.emulator.admin.getCard(id)!.card.status).toBe('APPROVED')
    expect((await p.cli(['plan', '--detailed-exitcode'])).code).toBe(0)
  })

  it('ignore_changes: a console edit of an ignored field is no change, and a PATCH of its object keeps it', async () => {
    p = await createProject()
    p.edit('cards/bookstore-reader.yaml', '  name: bookstore-reader\n', '  name: bookstore-reader\n  lifecycle:\n    ignore_changes: [additional_statement.url, description]\n')
    expect((await applyAll()).code).toBe(0)
    const id = p.state().resources['MemberCard.bookstore-reader']!.remote_id!
    p.emulator.admin.mutateCard(id, {description: '店长在后台改了说明', additional_statement: {title: '读者卡章程', url: 'https://console.example.cn/terms'}})
    const quiet = await p.cli(['plan', '--detailed-exitcode'])
    expect(quiet.code, quiet.stdout).toBe(0)
    expect(quiet.stdout).not.toContain('drift')
    p.edit('cards/bookstore-reader.yaml', 'title: 读者卡章程', 'title: 读者卡章程（2027 版）')
    expect((await applyAll()).code).toBe(0)
    const card = p.emulator.admin.getCard(id)!.card
    expect(card.additional_statement).toEqual({title: '读者卡章程（2027 版）', url: 'https://console.example.cn/terms'})
    expect(card.description).toBe('店长在后台改了说明')
    expect((await p.cli(['plan', '--detailed-exitcode'])).code).toBe(0)
    p.edit('cards/bookstore-reader.yaml', 'ignore_changes: [additional_statement.url, description]', 'ignore_changes: [additional_statement.uri]')
    const typo = await p.cli(['validate'])
    expect(typo.code).toBe(1)
    expect(typo.stdout + typo.stderr).toMatch(/cards\/bookstore-reader\.yaml:8:22: error\[ignore-changes-unknown-field\]: .*"additional_statement\.uri".*did you mean "additional_statement\.url"/)
  })

  it('apply --no-delete leaves removed cards live and in state, listed as skipped', async () => {
    p = await createProject()
    expect((await applyAll()).code).toBe(0)
    const id = p.state().resources['MemberCard.bookstore-reader']!.remote_id!
    rmSync(path.join(p.dir, 'cards/bookstore-reader.yaml'))
    const applied = await p.cli(['apply', '--auto-approve', '--no-delete'])
    expect(applied.code, applied.stdout + applied.stderr).toBe(0)
    expect(applied.stdout).toContain(`MemberCard.bookstore-reader (card ${id}) would be deleted; skipped (--no-delete)`)
    expect(p.emulator.admin.getCard(id)!.card.status).toBe('APPROVED')
    expect(p.state().resources['MemberCard.bookstore-reader']!.remote_id).toBe(id)
    const saved = path.join(p.dir, 'plan.json')
    expect((await p.cli(['plan', '--out', saved])).code).toBe(0)
    const refused = await p.cli(['apply', saved, '--no-delete'])
    expect(refused.code).toBe(1)
    expect(refused.stdout).toContain('error[no-delete-refused]')
  })
})

describe('engine bugs found in use', () => {
  it('a one-way switch stays remembered after its block is removed: re-adding it switched off fails at plan, not at the API', async () => {
    p = await createProject()
    expect((await applyAll()).code).toBe(0)
    const text = p.read('cards/coffee-member.yaml')
    const rights = text.slice(text.indexOf('  rights:'))
    p.write('cards/coffee-member.yaml', text.replace(rights, ''))
    const shown = await p.cli(['plan', '--detailed-exitcode'])
    expect(shown.code).toBe(2)
    expect(shown.stdout).toContain('# state only (no API call): rights.show_bonus: remembered as switched on (it can never be switched off)')
    expect(shown.stdout).toMatch(/cards\/coffee-member\.yaml:\d+:\d+: warning\[unset-unsupported\]: MemberCard\.coffee-member: spec no longer sets rights \(/)
    expect((await applyAll()).code).toBe(0)
    expect(p.state().resources['MemberCard.coffee-member']!.one_way).toEqual({'rights.show_bonus': true})
    p.write('cards/coffee-member.yaml', text.replace(rights, '  rights:\n    show_bonus: false\n    show_favor: false\n'))
    const before = writes()
    const refused = await applyAll()
    expect(refused.code).toBe(1)
    expect(refused.stdout).toMatch(/error\[oneway-reversal\]: MemberCard\.coffee-member: spec\.rights\.show_bonus cannot be switched off/)
    expect(writes()).toBe(before)
  })

  it('a state-only change is in the plan: plan and apply agree on whether anything changes', async () => {
    p = await createProject()
    p.edit('cards/coffee-member.yaml', 'total_quantity: 1000000', 'total_quantity: 5000000')
    expect((await applyAll()).code).toBe(0)
    p.edit('cards/coffee-member.yaml', '  total_quantity: 5000000\n', '')
    const plan = await planJson()
    expect(plan.has_changes).toBe(true)
    expect(plan.summary.state_only).toBe(1)
    expect(plan.changes.find((c) => c.address === 'MemberCard.coffee-member')!.state_updates).toEqual(['total_quantity: no longer managed (the card keeps its value)'])
    const serial = p.state().serial
    const applied = await applyAll()
    expect(applied.stdout).toContain('Apply complete: 1 card changed, 0 failed.')
    expect(p.state().serial).toBe(serial + 1)
    const after = await p.cli(['plan', '--detailed-exitcode'])
    expect(after.code, after.stdout).toBe(0)
    expect(after.stdout).toContain('No changes.')
  })
})
