import {afterEach, describe, expect, it} from 'vitest'
import {mkdtemp, readFile, rm, stat} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {X509Certificate} from 'node:crypto'
import {BRAND, MCO, startTestEmulator, type TestEmulator} from './signed-client.js'
import {brandBody, membercardBody} from './bodies.js'
import {expectApiError} from './expect-error.js'

const running: TestEmulator[] = []
const dirs: string[] = []
afterEach(async () => {
  for (const t of running.splice(0)) await t.emu.close()
  for (const d of dirs.splice(0)) await rm(d, {recursive: true, force: true})
})

async function start(options: Parameters<typeof startTestEmulator>[0] = {}): Promise<TestEmulator> {
  const t = await startTestEmulator(options)
  running.push(t)
  return t
}

async function tempDir(): Promise<string> {
  const d = await mkdtemp(path.join(tmpdir(), 'cardform-emu-test-'))
  dirs.push(d)
  return d
}

describe('credentials and persistence', () => {
  it('writes credentials.json with relative key files, 0600 private keys and a real platform certificate', async () => {
    const dir = await tempDir()
    const t = await start({dataDir: dir})
    const file = JSON.parse(await readFile(path.join(dir, 'credentials.json'), 'utf8'))
    expect(file.endpoint).toBe(t.emu.url)
    expect(file.mchid).toMatch(/^\d{10}$/)
    expect(file.merchant_serial).toMatch(/^[0-9A-F]{40}$/)
    expect(file.wechatpay_public_key_id).toMatch(/^PUB_KEY_ID_\d{32}$/)
    expect(file.platform_certificate_serial).toMatch(/^[0-9A-F]{40}$/)
    expect(file.aggregator_token).toBeTruthy()
    for (const key of ['merchant_private_key_file', 'wechatpay_public_key_file', 'platform_certificate_file']) {
      expect(path.isAbsolute(file[key])).toBe(false)
    }
    expect((await stat(path.join(dir, file.merchant_private_key_file))).mode & 0o777).toBe(0o600)
    const cert = new X509Certificate(await readFile(path.join(dir, file.platform_certificate_file)))
    expect(cert.serialNumber).toBe(file.platform_certificate_serial)
    expect(cert.verify(cert.publicKey)).toBe(true)
  })

  it('keeps credentials and cards across a restart and rewrites the endpoint', async () => {
    const dir = await tempDir()
    const first = await start({dataDir: dir})
    const created = await first.call('POST', MCO, membercardBody())
    expect(created.status).toBe(200)
    await first.emu.close()
    running.splice(running.indexOf(first), 1)

    const second = await start({dataDir: dir})
    expect(second.emu.credentials.mchid).toBe(first.emu.credentials.mchid)
    expect(second.emu.credentials.merchant_serial).toBe(first.emu.credentials.merchant_serial)
    expect(second.emu.credentials.wechatpay_public_key_id).toBe(first.emu.credentials.wechatpay_public_key_id)
    // The old key still signs for the new process.
    const got = await second.call('GET', `${MCO}/${created.json.card_id}`, undefined, {privateKey: first.privateKey})
    expect(got.status).toBe(200)
    expect(got.json).toEqual(created.json)
    const file = JSON.parse(await readFile(path.join(dir, 'credentials.json'), 'utf8'))
    expect(file.endpoint).toBe(second.emu.url)
  })

  it('restarted with the same --seed, never gives a new card the id of a card it already holds', async () => {
    // Found by the kill-anywhere experiment: the seeded PRNG starts over on restart, so the first card made after it
    // took the id of the first card ever made and replaced that record; deleting one then deleted the other.
    const dir = await tempDir()
    const first = await start({dataDir: dir, seed: 5})
    const a = await first.call('POST', MCO, membercardBody())
    const b = await first.call('POST', BRAND, brandBody())
    await first.emu.close()
    running.splice(running.indexOf(first), 1)

    const second = await start({dataDir: dir, seed: 5})
    const c = await second.call('POST', MCO, membercardBody({title: '另一张卡'}), {privateKey: first.privateKey})
    const d = await second.call('POST', BRAND, brandBody({card_title: '另一张卡'}), {privateKey: first.privateKey})
    expect([a.status, b.status, c.status, d.status]).toEqual([200, 200, 200, 200])
    const ids = [a.json.card_id, b.json.card_id, c.json.card_id, d.json.card_id]
    expect(new Set(ids).size).toBe(4)
    expect(second.emu.admin.listCards().map((r) => r.card_id).sort()).toEqual([...ids].sort())
  })

  it('removes the temp key folder of an in-memory emulator on close', async () => {
    const t = await startTestEmulator()
    const dir = path.dirname(t.emu.credentialsFile)
    await t.emu.close()
    await expect(stat(dir)).rejects.toThrow()
  })
})

describe('realism knobs', () => {
  it('answers 500 SYSTEM_ERROR before any change at fail rate 1', async () => {
    const t = await start({failRate: 1})
    const r = await t.call('POST', MCO, membercardBody())
    expectApiError(r, 500, 'SYSTEM_ERROR', '系统繁忙,请稍后重试')
    expect(t.emu.admin.listCards()).toHaveLength(0)
  })

  it('resets the connection after applying the change at drop rate 1, and the retry finds the card', async () => {
    const t = await start({dropRate: 1})
    const body = membercardBody()
    await expect(t.call('POST', MCO, body)).rejects.toThrow()
    const cards = t.emu.admin.listCards()
    expect(cards).toHaveLength(1)
    expect(t.emu.admin.stats().dropped_connections).toBe(1)
  })

  it('answers an idempotent retry after a dropped create with the same card', async () => {
    const dir = await tempDir()
    const dropping = await start({dataDir: dir, dropRate: 1})
    const body = membercardBody()
    await expect(dropping.call('POST', MCO, body)).rejects.toThrow()
    const cardId = dropping.emu.admin.listCards()[0]!.card_id
    await dropping.emu.close()
    running.splice(running.indexOf(dropping), 1)
    const healthy = await start({dataDir: dir})
    const retry = await healthy.call('POST', MCO, body, {privateKey: dropping.privateKey})
    expect(retry.status).toBe(200)
    expect(retry.json.card_id).toBe(cardId)
  })

  it('answers 429 RATELIMIT_EXCEEDED with Retry-After beyond the per-merchant rate', async () => {
    let now = Date.now()
    const t = await start({rateLimitQps: 2, clock: () => now})
    expect((await t.call('GET', `${MCO}?limit=1`)).status).toBe(200)
    expect((await t.call('GET', `${MCO}?limit=1`)).status).toBe(200)
    const limited = await t.call('GET', `${MCO}?limit=1`)
    expectApiError(limited, 429, 'RATELIMIT_EXCEEDED', '请求未受理,请降低频率后重试')
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    now += 1000
    expect((await t.call('GET', `${MCO}?limit=1`)).status).toBe(200)
  })

  it('adds the configured latency', async () => {
    const t = await start({latencyMs: 120})
    const began = performance.now()
    await t.call('GET', `${MCO}?limit=1`)
    expect(performance.now() - began).toBeGreaterThanOrEqual(110)
  })

  it('refuses knob values out of range', async () => {
    await expect(startTestEmulator({failRate: 2})).rejects.toThrow(/failRate/)
    await expect(startTestEmulator({latencyMs: -1})).rejects.toThrow(/latencyMs/)
  })
})

describe('admin routes', () => {
  it('changes a card behind the client’s back and bumps update_time, but not server-computed fields', async () => {
    let now = Date.now()
    const t = await start({clock: () => now})
    const card = (await t.call('POST', MCO, membercardBody())).json
    now += 2000
    const res = await fetch(`${t.emu.url}/__admin/cards/${card.card_id}`, {method: 'PATCH', body: JSON.stringify({title: '控制台改名', service_phone: '400-000'})})
    expect(res.status).toBe(200)
    const got = (await t.call('GET', `${MCO}/${card.card_id}`)).json
    expect(got.title).toBe('控制台改名')
    expect(got.update_time).not.toBe(card.update_time)
    const refused = await fetch(`${t.emu.url}/__admin/cards/${card.card_id}`, {method: 'PATCH', body: JSON.stringify({card_id: 'pOther'})})
    expect(refused.status).toBe(400)
    // Rules are bypassed: a one-way field can be switched off from the console.
    await t.emu.admin.mutateCard(card.card_id, {status: 'NOT_APPROVE'})
    expect((await t.call('GET', `${MCO}/${card.card_id}`)).json.status).toBe('NOT_APPROVE')
  })

  it('lists every card with owner and rights, counts requests per route and status, and resets', async () => {
    const t = await start()
    const card = (await t.call('POST', MCO, membercardBody())).json
    await t.call('PATCH', `${MCO}/${card.card_id}/rights`, {show_bonus: true, show_favor: false})
    await t.call('GET', `${MCO}/pNoSuchCard000000000000000000`)
    const cards = (await (await fetch(`${t.emu.url}/__admin/cards`)).json()) as any[]
    expect(cards).toHaveLength(1)
    expect(cards[0]).toMatchObject({family: 'membercard-open', owner_mchid: t.emu.credentials.mchid, rights: {show_bonus: true}})
    const stats = (await (await fetch(`${t.emu.url}/__admin/stats`)).json()) as any
    expect(stats.cards_created).toBe(1)
    expect(stats.by_route['POST /v3/marketing/membercard-open/cards']).toBe(1)
    expect(stats.by_route_status['GET /v3/marketing/membercard-open/cards/{card_id}']).toEqual({404: 1})
    expect(stats.by_status['204']).toBe(1)
    expect((await fetch(`${t.emu.url}/__admin/reset`, {method: 'POST'})).status).toBe(200)
    expect(t.emu.admin.listCards()).toHaveLength(0)
    expect(t.emu.admin.stats().requests).toBe(0)
  })
})
