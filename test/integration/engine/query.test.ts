import {existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {QueryResult} from '../../../engine/adopt/query-live.js'
import {BrandCardMemberApi} from '../../../engine/providers/wechatpay/brand-card-member.js'
import {MembercardOpenApi} from '../../../engine/providers/wechatpay/membercard-open.js'
import {brandBody} from '../../emulator/bodies.js'
import {Harness, membercardBody, uniqueId} from '../client/emulator-helpers.js'
import {expectAdoptionPlansClean, routeCounts, routeDelta} from './adoption.js'
import {createProject, type TestProject} from './project.js'

const MCO = '/v3/marketing/membercard-open/cards'
const BRAND = '/v3/brand/partner/card-member/cards'
/** The quickstart's brand: its specs name it, so query lists it without --brand-id. */
const QUICKSTART_BRAND = '1004582931'
const OTHER_BRAND = '2000000001'
const NAME = /^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$/

const harness = new Harness()
let p: TestProject
/** Cards made on the emulator directly (as in the merchant console), by what query should make of them. */
const made = {memberCards: [] as string[], brandCards: [] as string[], otherBrand: [] as string[], deleted: '', invalidated: '', gold: [] as string[], dynamic: '', odd: '', stocked: ''}
let managed: string[] = []

beforeAll(async () => {
  p = await createProject()
  const applied = await p.cli(['apply', '--auto-approve', '--allow-irreversible'])
  expect(applied.code, applied.stdout + applied.stderr).toBe(0)
  managed = Object.values(p.state().resources).map((r) => r.remote_id!)

  const client = harness.client(p.emulator)
  const open = new MembercardOpenApi(client)
  const brand = new BrandCardMemberApi(client)
  const mco = async (over: Record<string, unknown>) => (await open.create(membercardBody(over))).card_id
  // 20 Chinese titles (names from the card_id), three alike ASCII ones, one with write-only fields set, one with a
  // stock, one whose record grows a key no schema knows: 26 MemberCards, 29 with the quickstart's and the deleted one.
  for (let i = 0; i < 20; i++) made.memberCards.push(await mco({title: `门店卡${String(i).padStart(2, '0')}`}))
  for (const title of ['Gold 会员', 'GOLD', 'gold!']) made.gold.push(await mco({title}))
  made.dynamic = await mco({
    title: 'Dynamic',
    need_dynamic_code: true,
    date_information: {type: 'FIX_TERM', available_day_after_receive: 30, wait_days_after_receive: 2},
  })
  made.odd = await mco({title: '储值卡', code_mode: 'MERCHANT_DEPOSIT'})
  await p.emulator.admin.mutateCard(made.odd, {card_style: 'NEW'})
  made.stocked = await mco({title: 'Stocked', total_quantity: 100})
  made.memberCards.push(...made.gold, made.dynamic, made.odd, made.stocked)
  made.deleted = await mco({title: '已删除'})
  await open.delete(made.deleted)

  // 25 brand cards of the quickstart's brand (28 listed with its two and the invalidated one), 3 of another brand.
  const brandCard = async (brandId: string, title: string) =>
    (await brand.create(brandBody({brand_id: brandId, card_title: title, out_request_no: uniqueId('brand')}) as never)).card_id
  for (let i = 0; i < 25; i++) made.brandCards.push(await brandCard(QUICKSTART_BRAND, i < 2 ? 'Fit Club' : `健身卡${String(i).padStart(2, '0')}`))
  made.invalidated = await brandCard(QUICKSTART_BRAND, '作废卡')
  await brand.invalidate(made.invalidated, QUICKSTART_BRAND)
  for (let i = 0; i < 3; i++) made.otherBrand.push(await brandCard(OTHER_BRAND, `瑜伽卡${i}`))
})

afterAll(async () => {
  await harness.closeAll()
  await p.close()
})

async function queryJson(args: string[] = []): Promise<QueryResult> {
  const r = await p.cli(['query', '--json', ...args])
  expect(r.code, r.stdout + r.stderr).toBe(0)
  return JSON.parse(r.stdout) as QueryResult
}

describe('cardform query against the emulator', () => {
  it('finds exactly the live cards cardform does not manage, with list calls only', async () => {
    const before = routeCounts(p)
    const found = await queryJson()
    // 29 MemberCards and 28 brand cards, 20 a page: two pages of each, and nothing else (no GET per card, no change).
    expect(routeDelta(before, routeCounts(p))).toEqual({[`GET ${MCO}`]: 2, [`GET ${BRAND}`]: 2})

    const ids = (kind: string) => found.cards.filter((c) => c.kind === kind).map((c) => c.card_id).sort()
    expect(ids('MemberCard')).toEqual([...made.memberCards].sort())
    expect(ids('BrandMemberCard')).toEqual([...made.brandCards].sort())
    expect(found.cards).toHaveLength(26 + 25)
    expect(found.skipped.filter((s) => s.reason === 'gone').map((s) => [s.card_id, s.detail]).sort()).toEqual(
      [
        [made.deleted, 'status DELETED'],
        [made.invalidated, 'state CARD_INVALID (invalidated)'],
      ].sort(),
    )
    expect(found.skipped.filter((s) => s.reason === 'in-state').map((s) => s.card_id).sort()).toEqual([...managed].sort())

    for (const kind of ['MemberCard', 'BrandMemberCard']) {
      const names = found.cards.filter((c) => c.kind === kind).map((c) => c.name)
      expect(new Set(names).size).toBe(names.length)
      for (const name of names) expect(name).toMatch(NAME)
    }
    const byId = new Map(found.cards.map((c) => [c.card_id, c]))
    expect(made.gold.map((id) => byId.get(id)!.name)).toEqual(['gold', 'gold-2', 'gold-3'])
    const tail = (id: string) => id.toLowerCase().replace(/[^a-z0-9]/g, '').slice(-8)
    expect(byId.get(made.memberCards[0]!)).toMatchObject({name: `card-${tail(made.memberCards[0]!)}`, title: '门店卡00'})
    expect(byId.get(made.brandCards[5]!)!.name).toBe(`brand-card-${tail(made.brandCards[5]!)}`)
    expect(made.brandCards.slice(0, 2).map((id) => byId.get(id)!.name)).toEqual(['fit-club', 'fit-club-2'])

    // The spec is the live card less what the server sets and its defaults.
    const first = byId.get(made.memberCards[0]!)!
    expect(Object.keys(first).sort()).toEqual(['card_id', 'kind', 'name', 'spec', 'title'])
    for (const key of ['card_id', 'status', 'create_time', 'update_time', 'remain_quantity', 'out_request_no', 'total_quantity']) {
      expect(first.spec).not.toHaveProperty(key)
    }
    expect(byId.get(made.stocked)!.spec.total_quantity).toBe(100)
    const fitness = byId.get(made.brandCards[0]!)!.spec
    expect(fitness).not.toHaveProperty('state')
    expect(fitness).not.toHaveProperty('need_pinned')

    const codes = found.warnings.map((w) => w.code).sort()
    expect(codes).toEqual(['kind-not-listable', 'unknown-fields-dropped'])
    const dropped = found.warnings.find((w) => w.code === 'unknown-fields-dropped')!
    expect(dropped.message).toContain(made.odd)
    expect(dropped.message).toContain('card_style')
    expect(byId.get(made.odd)!.spec).not.toHaveProperty('card_style')
  })

  it('lists a brand no spec or state names when given --brand-id, and only the kind asked for', async () => {
    const found = await queryJson(['--kind', 'BrandMemberCard', '--brand-id', OTHER_BRAND])
    expect(found.cards.map((c) => c.card_id).sort()).toEqual([...made.brandCards, ...made.otherBrand].sort())
    expect(found.warnings).toEqual([])
  })

  it('prints a table and a hint without --out, and refuses an unknown kind with a suggestion', async () => {
    const r = await p.cli(['query', '--kind', 'MemberCard'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain('Found 26 cards that cardform does not manage:')
    expect(r.stdout).toMatch(/^ {2}KIND +NAME +CARD_ID +TITLE$/m)
    expect(r.stdout).toMatch(new RegExp(`^  MemberCard  gold-2 +${made.gold[1]}  GOLD$`, 'm'))
    expect(r.stdout).toContain('Skipped 3 listed cards: 2 managed by cardform, 1 deleted or invalidated.')
    expect(r.stdout).toContain('cardform query --out DIR')
    expect(r.stderr).toContain(`warning[unknown-fields-dropped]: MemberCard.`)
    const bad = await p.cli(['query', '--kind', 'MemberCrad'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('unknown kind "MemberCrad" (did you mean "MemberCard"?)')
  })

  it('writes DIR/<Kind>/<name>.yaml relative to the current directory and never overwrites a file', async () => {
    const cwd = mkdtempSync(path.join(tmpdir(), 'cardform-query-cwd-'))
    try {
      mkdirSync(path.join(cwd, 'out/MemberCard'), {recursive: true})
      writeFileSync(path.join(cwd, 'out/MemberCard/gold.yaml'), 'keep me\n')
      const r = await p.cli(['query', '--json', '--kind', 'MemberCard', '--out', 'out'], {cwd})
      expect(r.code, r.stderr).toBe(0)
      const found = JSON.parse(r.stdout) as QueryResult
      expect(readFileSync(path.join(cwd, 'out/MemberCard/gold.yaml'), 'utf8')).toBe('keep me\n')
      const gold = found.cards.find((c) => c.name === 'gold')!
      expect(gold.file).toBeUndefined()
      expect(found.warnings.filter((w) => w.code === 'file-exists').map((w) => w.address)).toEqual(['MemberCard.gold'])
      const written = found.cards.filter((c) => c.file !== undefined)
      expect(written).toHaveLength(25)
      for (const c of written) expect(c.file).toBe(path.join('out', 'MemberCard', `${c.name}.yaml`))
      expect(readdirSync(path.join(cwd, 'out/MemberCard')).sort()).toEqual(found.cards.map((c) => `${c.name}.yaml`).sort())
      expect(existsSync(path.join(p.dir, 'out'))).toBe(false)
    } finally {
      rmSync(cwd, {recursive: true, force: true})
    }
  })

  it('writes specs that validate in the project and adopt their cards; a second run finds them adopted', async () => {
    const out = path.join(p.dir, 'cards', 'imported')
    const before = routeCounts(p)
    const r = await p.cli(['query', '--json', '--out', out])
    expect(r.code, r.stderr).toBe(0)
    const found = JSON.parse(r.stdout) as QueryResult
    expect(Object.keys(routeDelta(before, routeCounts(p))).sort()).toEqual([`GET ${BRAND}`, `GET ${MCO}`])
    expect(found.cards).toHaveLength(51)
    for (const c of found.cards) {
      expect(c.file).toBe(path.join(out, c.kind, `${c.name}.yaml`))
      const text = readFileSync(c.file!, 'utf8')
      expect(text).toMatch(/^# yaml-language-server: \$schema=\S+\.schema\.json\n/)
      expect(text).toContain(`import_id: ${c.card_id}\n`)
      expect(text).toContain(`description: "imported from ${c.card_id}: ${c.title}"`)
    }
    const dynamic = readFileSync(found.cards.find((c) => c.card_id === made.dynamic)!.file!, 'utf8')
    expect(dynamic).toContain(
      '# Not readable from WeChat Pay, so not written here: date_information.wait_days_after_receive, need_dynamic_code, rights\n' +
        '# (set them only if you know their values; rights.show_bonus, rights.show_favor: once on, never off)\nspec:\n',
    )
    const schemaRef = /\$schema=(\S+)/.exec(dynamic)![1]!
    expect(existsSync(path.resolve(path.dirname(found.cards[0]!.file!), schemaRef))).toBe(true)
    // The project's own copy (schemas/), so the line resolves wherever the project is checked out, not via this repository.
    for (const c of found.cards) {
      const ref = /\$schema=(\S+)/.exec(readFileSync(c.file!, 'utf8'))![1]!
      const resolved = path.resolve(path.dirname(c.file!), ref)
      expect(resolved.startsWith(path.join(p.dir, 'schemas') + path.sep), ref).toBe(true)
      expect(existsSync(resolved)).toBe(true)
    }

    const validated = await p.cli(['validate'])
    expect(validated.code, validated.stdout).toBe(0)
    expect(validated.stdout).toContain(`Valid: ${4 + 51} cards in ${3 + 51} files.`)

    // The specs now name their cards in metadata.import_id: nothing is offered twice.
    const again = await queryJson()
    expect(again.cards).toEqual([])
    expect(again.skipped.filter((s) => s.reason === 'import-pending').map((s) => s.card_id).sort()).toEqual(found.cards.map((c) => c.card_id).sort())
    // Declarative import of what query wrote: only imports, no field change, nothing created or changed by apply.
    await expectAdoptionPlansClean(p, found)
  })
})

describe('cardform query in a project with no cards', () => {
  it('says that brand partner cards cannot be listed without a brand_id, and writes a spec that does not validate with a warning', async () => {
    const empty = await createProject({cards: {}})
    try {
      const cardId = (await new MembercardOpenApi(harness.client(empty.emulator)).create(membercardBody({title: 'Odd'}))).card_id
      // A value the schema refuses (the console, or an API change, can make what a spec cannot say).
      await empty.emulator.admin.mutateCard(cardId, {code_type: 'QR_CODE'})
      const out = path.join(empty.dir, 'imported')
      const r = await empty.cli(['query', '--json', '--out', out])
      expect(r.code, r.stderr).toBe(0)
      const found = JSON.parse(r.stdout) as QueryResult
      expect(found.cards.map((c) => [c.card_id, c.name, c.file])).toEqual([[cardId, 'odd', path.join(out, 'MemberCard', 'odd.yaml')]])
      expect(found.warnings.map((w) => w.code).sort()).toEqual(['brand-id-unknown', 'kind-not-listable', 'spec-invalid'])
      expect(found.warnings.find((w) => w.code === 'brand-id-unknown')!.message).toContain('--brand-id')
      const invalid = found.warnings.find((w) => w.code === 'spec-invalid')!
      expect(invalid.address).toBe('MemberCard.odd')
      expect(invalid.message).toContain('spec.code_type: "QR_CODE" is not one of')
      expect(readFileSync(found.cards[0]!.file!, 'utf8')).toContain('code_type: QR_CODE')
      expect(routeDelta({}, empty.emulator.admin.stats().by_route)).toEqual({[`POST ${MCO}`]: 1, [`GET ${MCO}`]: 1})
    } finally {
      await empty.close()
    }
  })
})
