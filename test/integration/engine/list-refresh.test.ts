import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Plan} from '../../../engine/model/plan.js'
import {runPlan} from '../../../engine/operations.js'
import {refreshLive, type LiveReader, type RefreshStrategy} from '../../../engine/plan/refresh.js'
import {openWorkspace} from '../../../engine/workspace.js'
import {MembercardOpenApi} from '../../../engine/providers/wechatpay/membercard-open.js'
import {Harness, membercardBody} from '../client/emulator-helpers.js'
import {routeCounts, routeDelta} from './adoption.js'
import {aggregatorCard, brandCards, createProject, storeCards, type TestProject} from './project.js'

const MCO = 'GET /v3/marketing/membercard-open/cards'
const BRAND = 'GET /v3/brand/partner/card-member/cards'
const MCO_ONE = `${MCO}/{card_id}`
const BRAND_ONE = `${BRAND}/{card_id}`
const PAGE = 20
/** The quickstart's brand, and a second one: the brand cards span two brand listings. */
const BRANDS = ['1004582931', '2000000002']


const harness = new Harness()
let p: TestProject
/** Managed cards per family: the quickstart's two and 100 generated ones. */
const perFamily = {MemberCard: 102, BrandMemberCard: 102}
/** MemberCards made on the emulator directly: in the merchant's list, not in state. */
const UNMANAGED = 3

beforeAll(async () => {
  // Every kind: the quickstart's four cards (most fields of both families), 100 generated cards of each family, one
  // aggregator card (never read: its API has no GET and no list).
  p = await createProject({extraCards: {...storeCards(100), ...brandCards(100, BRANDS), 'aggregator.yaml': aggregatorCard}})
  p.edit('cardform.yaml', '  rate_limit: 1000\n', `  rate_limit: 1000\n  aggregator:\n    endpoint: ${p.emulator.url}\n    token: ${p.emulator.credentials.aggregator_token}\n`)
  const applied = await p.cli(['apply', '--auto-approve', '--allow-irreversible', '--parallelism', '20'])
  expect(applied.code, applied.stdout + applied.stderr).toBe(0)
  expect(Object.keys(p.state().resources)).toHaveLength(perFamily.MemberCard + perFamily.BrandMemberCard + 1)
  const open = new MembercardOpenApi(harness.client(p.emulator))
  for (let i = 0; i < UNMANAGED; i++) await open.create(membercardBody({title: `控制台卡${i}`}))
}, 300_000)

afterAll(async () => {
  await harness.closeAll()
  await p.close()
})

async function planJson(args: string[] = []): Promise<Plan> {
  const r = await p.cli(['plan', '--json', ...args])
  expect(r.stderr).toBe('')
  return JSON.parse(r.stdout) as Plan
}

/** Plan in process with the refresh forced one way (an internal option; the CLI always chooses). */
async function planWith(strategy: RefreshStrategy): Promise<Plan> {
  const {workspace} = await openWorkspace(p.dir)
  try {
    return (await runPlan(workspace!, {refresh: true, parallelism: 10, lock: false, lockTimeoutMs: 0, refreshStrategy: strategy})).plan
  } finally {
    await workspace!.close()
  }
}

/** The value as JSON, without the Request-ID of failed calls: each read of an unreadable card is another request. */
const comparable = (value: unknown): unknown => JSON.parse(JSON.stringify(value).replace(/ \(Request-ID [^)]*\)/g, ''))

const idOf = (address: string) => p.state().resources[address]!.remote_id!

/** The merchant's MemberCards in list order (creation order), as addresses; undefined for cards not in state. */
function membercardListOrder(): (string | undefined)[] {
  const byId = new Map(Object.entries(p.state().resources).map(([address, r]) => [r.remote_id, address]))
  return p.emulator.admin
    .listCards()
    .filter((c) => c.family === 'membercard-open')
    .map((c) => byId.get(c.card_id))
}

describe('plan reads live cards by list pages', () => {
  it('plans 204 managed cards with list pages only: at most ⌈n/20⌉ + 2 per family, no GET per card', async () => {
    const before = routeCounts(p)
    const plan = await planJson()
    const calls = routeDelta(before, routeCounts(p))
    expect(calls[MCO_ONE]).toBeUndefined()
    expect(calls[BRAND_ONE]).toBeUndefined()
    expect(calls[MCO]).toBeLessThanOrEqual(Math.ceil(perFamily.MemberCard / PAGE) + 2)
    expect(calls[BRAND]).toBeLessThanOrEqual(Math.ceil(perFamily.BrandMemberCard / PAGE) + 2)
    // Exactly: 105 MemberCards in the merchant's list (3 unmanaged) make 6 pages; each brand's 52 and 50 cards 3 each.
    expect(calls).toEqual({[MCO]: Math.ceil((perFamily.MemberCard + UNMANAGED) / PAGE), [BRAND]: 3 + 3})
    expect(plan.applyable).toBe(true)
    expect(plan.changes.filter((c) => c.action !== 'no-op')).toEqual([])
    expect(plan.drift).toEqual([])
  })

  it('reads a few cards among many with GET: one for one card, the first page and then GETs for three', async () => {
    const order = membercardListOrder()
    const onFirstPage = order.slice(0, PAGE).filter((a) => a !== undefined)
    const onLastPage = order.slice(-PAGE).filter((a) => a !== undefined)

    let before = routeCounts(p)
    await planJson(['--target', onLastPage[0]!])
    expect(routeDelta(before, routeCounts(p))).toEqual({[MCO_ONE]: 1})

    // Three cards: the first page (total 105: 5 pages more) does not show them, and 3 GETs are fewer than 5 pages.
    before = routeCounts(p)
    const three = await planJson(onLastPage.slice(0, 3).flatMap((a) => ['--target', a!]))
    expect(routeDelta(before, routeCounts(p))).toEqual({[MCO]: 1, [MCO_ONE]: 3})
    expect(three.changes.map((c) => c.action)).toEqual(['no-op', 'no-op', 'no-op'])

    // Cards the first page shows are read from it, with no second request.
    before = routeCounts(p)
    const first = await planJson(onFirstPage.slice(0, 4).flatMap((a) => ['--target', a!]))
    expect(routeDelta(before, routeCounts(p))).toEqual({[MCO]: 1})
    expect(first.changes).toHaveLength(4)
    expect(first.diagnostics.filter((d) => d.severity === 'error')).toEqual([])
  })

  it('confirms a card deleted outside cardform with exactly one GET, and plans it as deleted outside', async () => {
    const address = 'MemberCard.store-03'
    await p.emulator.admin.mutateCard(idOf(address), {status: 'DELETED'})
    const before = routeCounts(p)
    const plan = await planJson()
    expect(routeDelta(before, routeCounts(p))).toEqual({[MCO]: 6, [MCO_ONE]: 1, [BRAND]: 6})
    const change = plan.changes.find((c) => c.address === address)!
    expect([change.action, change.reason]).toEqual(['create', 'deleted-outside'])
    expect(plan.drift.map((d) => [d.address, d.type])).toEqual([[address, 'deleted']])
  })

  it('makes the same plan by list as by GET: every field, every kind, drift, deletions and unreadable cards', async () => {
    const mutate = (address: string, patch: Record<string, unknown>) => p.emulator.admin.mutateCard(idOf(address), patch)
    // Drift on fields of every shape: strings, long texts, keyed lists, nested objects; one write-only field.
    await mutate('MemberCard.coffee-member', {
      title: '改名的咖啡卡',
      user_information_form: {common_field_list: ['USER_FORM_FLAG_MOBILE'], custom_field_list: [{type: 'RADIO', name: '常去门店', values: ['国贸店']}]},
    })
    await mutate('MemberCard.store-05', {description: '控制台改的说明\n第二行'})
    await mutate('MemberCard.store-08', {need_dynamic_code: true})
    await mutate('BrandMemberCard.fitness-plus', {legal_agreement: '一、改过的条款。', purchase_information: {price: 1, jump_appid: 'wx5c2e8a0f3d7b9146', jump_path: '/p'}})
    await mutate('BrandMemberCard.brand-012', {card_title: '别人改的'})
    // Gone: invalidated in the console; not in the list at all (moved to another merchant, to another brand).
    await mutate('BrandMemberCard.brand-010', {state: 'CARD_INVALID'})
    await mutate('MemberCard.store-07', {owner_mchid: '1900009999'})
    await mutate('BrandMemberCard.brand-011', {brand_id: '2000000009'})
    // And a change in config, so the plan has steps to compare.
    p.edit('cards/stores.yaml', 'title: 门店卡09', 'title: 门店卡九')

    const {workspace} = await openWorkspace(p.dir)
    try {
      const state = await workspace!.store.read()
      const reads = new Map<RefreshStrategy, Awaited<ReturnType<typeof refreshLive>>>()
      const calls = new Map<RefreshStrategy, Record<string, number>>()
      for (const strategy of ['get', 'list'] as const) {
        const before = routeCounts(p)
        reads.set(strategy, await refreshLive(state, await workspace!.gateway(), {parallelism: 10, strategy}))
        calls.set(strategy, routeDelta(before, routeCounts(p)))
      }
      // Each way really was taken: GET reads every card; list reads pages, and GETs only the four cards it does not
      // show live and the one deleted before (store-03), to confirm them.
      expect(calls.get('get')).toEqual({[MCO_ONE]: perFamily.MemberCard, [BRAND_ONE]: perFamily.BrandMemberCard})
      expect(calls.get('list')).toEqual({[MCO]: 6, [BRAND]: 6, [MCO_ONE]: 2, [BRAND_ONE]: 2})

      const byGet = reads.get('get')!
      const byList = reads.get('list')!
      expect(byGet.live.size).toBe(perFamily.MemberCard + perFamily.BrandMemberCard - 2)
      expect(Object.fromEntries([...byList.live].sort())).toEqual(Object.fromEntries([...byGet.live].sort()))
      expect(comparable(byList.diagnostics)).toEqual(comparable(byGet.diagnostics))
      expect(byGet.diagnostics.map((d) => d.address)).toEqual(['BrandMemberCard.brand-011', 'MemberCard.store-07'])
      expect(byGet.live.get('BrandMemberCard.brand-010')).toEqual({status: 'gone', detail: 'state CARD_INVALID (invalidated)'})
    } finally {
      await workspace!.close()
    }

    const withoutTime = ({created_at: _t, ...plan}: Plan) => comparable(plan)
    const [byGet, byList, auto] = [await planWith('get'), await planWith('list'), await planWith('auto')]
    expect(withoutTime(byList)).toEqual(withoutTime(byGet))
    expect(withoutTime(auto)).toEqual(withoutTime(byGet))
    // The plan is what the mutations make it: drift on five cards, three gone, two unreadable, one config change.
    expect(byGet.drift.map((d) => [d.address, d.type]).sort()).toEqual(
      [
        ['BrandMemberCard.brand-010', 'deleted'],
        ['BrandMemberCard.brand-012', 'modified'],
        ['BrandMemberCard.fitness-plus', 'modified'],
        ['MemberCard.coffee-member', 'modified'],
        ['MemberCard.store-03', 'deleted'],
        ['MemberCard.store-05', 'modified'],
      ].sort(),
    )
    expect(byGet.changes.find((c) => c.address === 'MemberCard.store-09')!.action).toBe('update')
    expect(byGet.diagnostics.filter((d) => d.code === 'refresh-failed').map((d) => d.address)).toEqual(['BrandMemberCard.brand-011', 'MemberCard.store-07'])
    // Every card read live carries its fingerprint: 204 managed, 2 unreadable, 2 gone.
    expect(byGet.changes.filter((c) => c.live_fingerprint)).toHaveLength(200)
  })

  it('reads with GET a card the list skipped when a card before it left the listing between pages', async () => {
    const stateNow = p.state()
    const byId = new Map(Object.entries(stateNow.resources).map(([address, r]) => [r.remote_id, address]))
    const listing = p.emulator.admin.listCards().filter((c) => c.family === 'brand' && c.card.brand_id === BRANDS[0])
    const leaving = listing[0]!.card_id
    const skipped = byId.get(listing[PAGE]!.card_id)!
    expect(skipped).toBeDefined()

    const {workspace} = await openWorkspace(p.dir)
    try {
      const gateway = await workspace!.gateway()
      // The real gateway, with one change made in the console right after the brand's first page was read: its first
      // card moves to another brand, so every record offset after it moves down by one and page 2 (offset 20) starts
      // one card later.
      const shifting: LiveReader = {
        canRead: (kind) => gateway.canRead(kind),
        read: (kind, remoteId, applied) => gateway.read(kind, remoteId, applied),
        listingOf: (kind, applied) => gateway.listingOf(kind, applied),
        async listPage(kind, scope, page) {
          const result = await gateway.listPage(kind, scope, page)
          if (kind === 'BrandMemberCard' && scope.brandId === BRANDS[0] && page === 0) await p.emulator.admin.mutateCard(leaving, {brand_id: '2000000009'})
          return result
        },
      }
      const state = await workspace!.store.read()
      const before = routeCounts(p)
      const {live, diagnostics} = await refreshLive(state, shifting, {parallelism: 10, strategy: 'list'})
      // The confirmations of the last test (two of each family), and one more: the card the shift skipped.
      expect(routeDelta(before, routeCounts(p))).toEqual({[MCO]: 6, [MCO_ONE]: 2, [BRAND]: 6, [BRAND_ONE]: 3})
      expect(live.get(skipped)).toEqual(await gateway.read('BrandMemberCard', stateNow.resources[skipped]!.remote_id!, stateNow.resources[skipped]!.applied))
      expect(live.get(skipped)!.status).toBe('found')
      expect(diagnostics.map((d) => d.address)).toEqual(['BrandMemberCard.brand-011', 'MemberCard.store-07'])
    } finally {
      await workspace!.close()
    }
  })
})
