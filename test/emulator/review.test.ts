import {afterEach, describe, expect, it} from 'vitest'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import type {EmulatorOptions} from '../../emulator/index.js'
import {BRAND, MCO, startTestEmulator, type TestEmulator} from './signed-client.js'
import {brandBody, membercardBody} from './bodies.js'

const running: TestEmulator[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((t) => t.emu.close()))
})

async function start(options: EmulatorOptions = {}): Promise<TestEmulator> {
  const t = await startTestEmulator(options)
  running.push(t)
  return t
}

async function create(t: TestEmulator): Promise<Record<string, any>> {
  const r = await t.call('POST', MCO, membercardBody())
  expect(r.status, r.text).toBe(200)
  return r.json
}

const statusOf = async (t: TestEmulator, id: string) => (await t.call('GET', `${MCO}/${id}`)).json.status

describe('review of membercard-open templates', () => {
  it('approves a new card at once by default', async () => {
    const t = await start()
    expect((await create(t)).status).toBe('APPROVED')
  })

  it('keeps a new card NOT_APPROVE for the review delay, on GET and in lists, then APPROVED', async () => {
    let now = Date.now()
    const t = await start({clock: () => now, reviewDelayMs: 60_000})
    const createdAt = now
    const card = await create(t)
    expect(card.status).toBe('NOT_APPROVE')
    now += 59_000
    expect(await statusOf(t, card.card_id)).toBe('NOT_APPROVE')
    expect(t.emu.admin.getCard(card.card_id)!.review).toEqual({due: createdAt + 60_000})
    now += 1_000
    expect((await t.call('GET', `${MCO}?limit=20`)).json.data[0].status).toBe('APPROVED')
    expect(await statusOf(t, card.card_id)).toBe('APPROVED')
    // The review does not edit the template.
    expect((await t.call('GET', `${MCO}/${card.card_id}`)).json.update_time).toBe(card.update_time)
  })

  it('sends an edited card back to review', async () => {
    let now = Date.now()
    const t = await start({clock: () => now, reviewDelayMs: 1_000})
    const card = await create(t)
    now += 1_000
    expect(await statusOf(t, card.card_id)).toBe('APPROVED')
    expect((await t.call('PATCH', `${MCO}/${card.card_id}`, {title: '新卡名'})).status).toBe(204)
    expect(await statusOf(t, card.card_id)).toBe('NOT_APPROVE')
    now += 1_000
    expect(await statusOf(t, card.card_id)).toBe('APPROVED')
  })

  it('under manual review waits for the admin, who approves or fails with a reason GET never shows', async () => {
    const t = await start({reviewDelayMs: 'manual'})
    const a = await create(t)
    const b = await create(t)
    expect(a.status).toBe('NOT_APPROVE')
    const approved = await fetch(`${t.emu.url}/__admin/cards/${a.card_id}/review`, {method: 'POST', body: JSON.stringify({result: 'approve'})})
    expect(approved.status).toBe(200)
    expect(await statusOf(t, a.card_id)).toBe('APPROVED')
    const failed = await t.emu.admin.review(b.card_id, {result: 'fail', reason: '背景图含二维码'})
    expect(failed).toMatchObject({card: {status: 'APPROVE_FAIL'}, review: {reason: '背景图含二维码'}})
    const got = await t.call('GET', `${MCO}/${b.card_id}`)
    expect(got.json.status).toBe('APPROVE_FAIL')
    expect(got.text).not.toContain('背景图含二维码')
    // A resubmission (PATCH) goes back to review and forgets the reason.
    await t.call('PATCH', `${MCO}/${b.card_id}`, {title: '改过的卡'})
    expect(t.emu.admin.getCard(b.card_id)).toMatchObject({card: {status: 'NOT_APPROVE'}, review: {}})
    expect(t.emu.admin.getCard(b.card_id)!.review!.reason).toBeUndefined()
  })

  it('refuses a malformed verdict, an unknown card and a card of a family without review', async () => {
    const t = await start({reviewDelayMs: 'manual'})
    const card = await create(t)
    const post = (id: string, body: unknown) => fetch(`${t.emu.url}/__admin/cards/${id}/review`, {method: 'POST', body: JSON.stringify(body)})
    expect((await post(card.card_id, {result: 'fail'})).status).toBe(400)
    expect((await post('pNoSuchCard000000000000000000', {result: 'approve'})).status).toBe(404)
    const brand = (await t.call('POST', BRAND, brandBody())).json
    expect(brand.state).toBe('CARD_EFFECTIVE')
    expect(brand.status).toBeUndefined()
    expect((await post(brand.card_id, {result: 'approve'})).status).toBe(400)
  })

  it('keeps a pending review across a restart', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'cardform-review-'))
    try {
      let now = Date.now()
      const first = await startTestEmulator({dataDir, clock: () => now, reviewDelayMs: 10_000})
      const card = await create(first)
      await first.emu.close()
      now += 10_000
      const second = await startTestEmulator({dataDir, clock: () => now, reviewDelayMs: 10_000})
      expect(await statusOf(second, card.card_id)).toBe('APPROVED')
      await second.emu.close()
    } finally {
      rmSync(dataDir, {recursive: true, force: true})
    }
  })
})

