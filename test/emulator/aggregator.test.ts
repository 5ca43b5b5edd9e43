import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {loadSeed, startTestEmulator, type TestEmulator} from './signed-client.js'
import {aggregatorBody} from './bodies.js'

let t: TestEmulator
beforeAll(async () => {
  t = await startTestEmulator()
})
afterAll(async () => {
  await t.emu.close()
})

const PATH = '/api/customer/user/userCreateMemberCard'

async function post(body: unknown, token: string | null = t.emu.credentials.aggregator_token): Promise<{status: number; json: any}> {
  const headers: Record<string, string> = {'Content-Type': 'application/json'}
  if (token !== null) headers['Authorization'] = `Bearer ${token}`
  const res = await fetch(t.emu.url + PATH, {method: 'POST', headers, body: JSON.stringify(body)})
  return {status: res.status, json: await res.json()}
}

describe('aggregator create (seed 000)', () => {
  it('creates a card and answers with the seed 000 envelope', async () => {
    const r = await post(aggregatorBody())
    expect(r.status).toBe(200)
    expect(r.json).toEqual({status: 1, message: 'ok', data: {errcode: 0, errmsg: 'ok', card_id: expect.stringMatching(/^p[A-Za-z0-9_-]{27}$/)}})
    const stored = t.emu.admin.getCard(r.json.data.card_id)
    expect(stored?.family).toBe('aggregator')
    expect(stored?.card['title']).toBe('会员卡')
  })

  it('accepts the body composed from seed 000 (required fields and every example value)', async () => {
    const r = await post(loadSeed('000-aggregator-create.composed.json'))
    expect(r.json.status, r.json.message).toBe(1)
  })

  it('refuses a request without the bearer token', async () => {
    const r = await post(aggregatorBody(), null)
    expect(r.status).toBe(401)
    expect(r.json).toMatchObject({status: 0, data: null})
    expect((await post(aggregatorBody(), 'wrong')).status).toBe(401)
  })

  it('refuses a missing required (*) field in the error envelope', async () => {
    const r = await post(aggregatorBody({prerogative: undefined}))
    expect(r.json).toMatchObject({status: 0, message: expect.stringMatching(/prerogative.*必填/)})
  })

  it('requires integers for int: fields', async () => {
    const r = await post(aggregatorBody({quantity: '100'}))
    expect(r.json).toMatchObject({status: 0, message: expect.stringMatching(/quantity.*类型/)})
  })

  it('refuses quantity 0 and values outside the seed enums', async () => {
    expect((await post(aggregatorBody({quantity: 0}))).json.status).toBe(0)
    expect((await post(aggregatorBody({terminal_type: 'alipay'}))).json.status).toBe(0)
    expect((await post(aggregatorBody({code_type: 'QRCODE'}))).json.status).toBe(0)
    expect((await post(aggregatorBody({type: 'PERMANENT'}))).json.status).toBe(0)
    expect((await post(aggregatorBody({color: 'Color999'}))).json.status).toBe(0)
  })

  it('enforces the character limits in the seed text', async () => {
    const r = await post(aggregatorBody({title: '一二三四五六七八九十'}))
    expect(r.json).toMatchObject({status: 0, message: expect.stringMatching(/title.*大于最大值 9/)})
  })
})
