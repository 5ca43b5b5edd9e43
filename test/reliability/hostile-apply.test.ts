import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {runApply, type ApplyRun} from '../../engine/operations.js'
import {MEMBERCARD_OPEN_CARDS} from '../../engine/providers/wechatpay/membercard-open.js'
import {openWorkspace} from '../../engine/workspace.js'
import {createProject, liveCards, storeCards, type TestProject} from '../integration/engine/project.js'
import {honest, startHostileServer, streamHuge, type Behave, type HostileServer} from './hostile-server.js'

/**
 * Issue 11, experiment 3, through apply: one card per hostile behaviour, all created in one apply against the hostile
 * server, which answers each create as its card's behaviour says (most of them after forwarding it to the emulator, so
 * the card really exists while the answer lies). The promise under test: no garbage is written to state (the create's
 * journal entry stays `creating` with its out_request_no), and the next apply, against an honest server, repeats the
 * same out_request_no and ends with exactly one live card per spec, recorded in state: none duplicated, none lost.
 */

/** Each create, answered badly. `forward`: the emulator made the card before the lie. */
interface Hostility {
  name: string
  forward: boolean
  /** What apply's failure must say. */
  failure: RegExp
  answer: Behave
}

const MiB = 1024 * 1024
const withUpstream = (lie: (up: {status: number; body: string; card: Record<string, unknown>}, ...rest: Parameters<Behave>) => void): Behave =>
  async (req, res, t) => {
    const up = await t.forward()
    const body = up.body.toString('utf8')
    lie({status: up.status, body, card: JSON.parse(body) as Record<string, unknown>}, req, res, t)
  }

const HOSTILITIES: Hostility[] = [
  {
    name: '2xx create without card_id',
    forward: true,
    failure: /^response is not a card record \(card_id missing\)/,
    answer: withUpstream(({card}, _req, _res, t) => {
      const {card_id: _id, ...rest} = card
      t.reply(200, JSON.stringify(rest))
    }),
  },
  {
    name: '2xx create with a numeric card_id',
    forward: true,
    failure: /^response is not a card record \(card_id is a number\)/,
    answer: withUpstream(({card}, _req, _res, t) => t.reply(200, JSON.stringify({...card, card_id: 12345}))),
  },
  {
    name: '2xx create with an empty card_id',
    forward: true,
    failure: /^response is not a card record \(card_id is not 1-64 letters/,
    answer: withUpstream(({card}, _req, _res, t) => t.reply(200, JSON.stringify({...card, card_id: ''}))),
  },
  {
    name: '2xx create with another out_request_no',
    forward: true,
    failure: /^response is the record of another create/,
    answer: withUpstream(({card}, _req, _res, t) => t.reply(200, JSON.stringify({...card, out_request_no: 'replayed-0001'}))),
  },
  {
    name: 'malformed JSON',
    forward: true,
    failure: /^response body is not JSON/,
    answer: withUpstream(({body}, _req, _res, t) => t.reply(200, body.slice(0, -7))),
  },
  {
    name: 'oversized body (500 MB)',
    forward: true,
    failure: /^response body exceeds 64 KiB/,
    answer: withUpstream((_up, _req, res) => {
      void streamHuge(res, {status: 200, totalBytes: 500 * MiB, declareLength: false, headers: {}, stopAfter: 64 * MiB})
    }),
  },
  {
    name: 'slowloris body',
    forward: true,
    failure: /^response not complete within 700 ms \(CARDFORM_RESPONSE_DEADLINE\)/,
    answer: withUpstream((_up, _req, res) => {
      res.writeHead(200, {'content-type': 'application/json'})
      const timer = setInterval(() => (res.destroyed ? clearInterval(timer) : res.write(' ')), 50)
      res.on('close', () => clearInterval(timer))
      setTimeout(() => res.destroy(), 10_000)
    }),
  },
  {
    name: 'redirect to another host',
    forward: true,
    failure: /^redirect to another host \(127\.0\.0\.1:9\) refused/,
    answer: withUpstream((_up, req, _res, t) => t.reply(302, '', {headers: {location: `http://127.0.0.1:9${req.url}`}})),
  },
  {
    name: 'missing Wechatpay-Signature',
    forward: true,
    failure: /^response lacks the Wechatpay-Signature header/,
    answer: withUpstream(({status, body}, _req, _res, t) => t.reply(status, body, {omit: ['Wechatpay-Signature']})),
  },
  {
    name: 'wrong Wechatpay-Serial',
    forward: true,
    failure: /^response Wechatpay-Serial "PUB_KEY_ID_9+" is not the configured WeChat Pay public key/,
    answer: withUpstream(({status, body}, _req, _res, t) => t.reply(status, body, {serial: 'PUB_KEY_ID_99999999999999999999999999999999'})),
  },
  {
    name: 'replayed old answer (timestamp 400 s old)',
    forward: true,
    failure: /^response Wechatpay-Timestamp is 40\d s behind the local clock/,
    answer: withUpstream(({status, body}, _req, _res, t) => t.reply(status, body, {timestamp: Math.floor(Date.now() / 1000) - 400})),
  },
  {
    name: '202 on every attempt',
    forward: false,
    // The failure line says the status once, after the message (`[HTTP 202, …]`): the message itself does not repeat it.
    failure: /failed: accepted but not processed yet; repeat with the same parameters$/,
    answer: (_req, _res, t) => t.reply(202, ''),
  },
]

const address = (i: number) => `MemberCard.store-${String(i).padStart(2, '0')}`
const title = (i: number) => `门店卡${String(i).padStart(2, '0')}`

let p: TestProject
let server: HostileServer
/** Create bodies the server saw, by card index. */
const creates = new Map<number, string[]>()
let hostileNow = true

beforeAll(async () => {
  // One card per hostility, and one more whose create is answered 202 once and then honestly.
  p = await createProject({
    cards: storeCards(HOSTILITIES.length + 1),
    // Small limits keep the oversized and slow cases quick; they are read from cardform.yaml like any project's.
    providerExtra: ['timeout_ms: 700', 'max_response_bytes: 65536'],
  })
  server = await startHostileServer(p.emulator, async (req, res, t) => {
    if (req.method !== 'POST' || req.url !== MEMBERCARD_OPEN_CARDS) return honest(req, res, t)
    const i = Number(/门店卡(\d+)/.exec(req.body.toString('utf8'))![1])
    const seen = creates.get(i) ?? []
    seen.push(req.body.toString('utf8'))
    creates.set(i, seen)
    if (!hostileNow) return honest(req, res, t)
    if (i === HOSTILITIES.length) return seen.length === 1 ? t.reply(202, '') : honest(req, res, t)
    return HOSTILITIES[i]!.answer(req, res, t)
  })
  p.edit('cardform.yaml', `endpoint: ${p.emulator.url}`, `endpoint: ${server.url}`)
})

afterAll(async () => {
  await server?.close()
  await p?.close()
})

async function apply(): Promise<ApplyRun> {
  const {workspace, diagnostics} = await openWorkspace(p.dir)
  expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([])
  try {
    return await runApply(workspace!, {
      autoApprove: true,
      allowDestroy: false,
      allowIrreversible: true,
      parallelism: 4,
      failFast: false,
      lockTimeoutMs: 0,
      refresh: true,
    })
  } finally {
    await workspace!.close()
  }
}

interface Figures {
  tried: number
  survived: number
  duplicated: number
  lost: number
}

describe('hostile server through apply', () => {
  it('writes nothing false to state, and the next apply repeats each create once: none duplicated, none lost', async () => {
    const first = await apply()
    const outcomes = new Map(first.result!.outcomes.map((o) => [o.address, o]))
    const journaled = new Map<number, string>()
    const survivedFirst = new Set<number>()
    HOSTILITIES.forEach((hostility, i) => {
      const outcome = outcomes.get(address(i))!
      expect(outcome.status, hostility.name).toBe('failed')
      expect(outcome.failure!.message, hostility.name).toMatch(hostility.failure)
      // The outcome of a create answered this way is unknown, never a refusal: the journal must stay.
      expect(outcome.failure!.refused, hostility.name).toBe(false)
      if (hostility.name.startsWith('202')) expect(outcome.failure!.status, hostility.name).toBe(202)
      const entry = p.state().resources[address(i)]
      expect(entry, hostility.name).toMatchObject({status: 'creating'})
      expect(entry!.remote_id, hostility.name).toBeUndefined()
      expect(entry!.live_fingerprint, hostility.name).toBeUndefined()
      journaled.set(i, entry!.out_request_no!)
      survivedFirst.add(i)
    })
    // 202 once, then done in the same apply: the repeat carried the identical bytes.
    const accepted = HOSTILITIES.length
    expect(outcomes.get(address(accepted))!.status).toBe('done')
    expect(creates.get(accepted)).toHaveLength(2)
    expect(new Set(creates.get(accepted)).size).toBe(1)

    hostileNow = false
    const second = await apply()
    expect(second.result!.failed).toBe(0)

    const figures = new Map<string, Figures>()
    const live = liveCards(p.emulator)
    const state = p.state()
    for (let i = 0; i <= HOSTILITIES.length; i++) {
      const name = i < HOSTILITIES.length ? HOSTILITIES[i]!.name : '202 once, then 200'
      const cards = live.filter((c) => c.card.title === title(i))
      const entry = state.resources[address(i)]
      const recorded = entry?.status === 'created' && cards.some((c) => c.card_id === entry.remote_id)
      // Every create of this card, in both applies, carried the same bytes and so the same out_request_no.
      const bodies = new Set(creates.get(i))
      if (journaled.has(i)) expect(JSON.parse([...bodies][0]!).out_request_no).toBe(journaled.get(i))
      figures.set(name, {
        tried: 1,
        survived: (i === accepted || survivedFirst.has(i)) && recorded && bodies.size === 1 ? 1 : 0,
        duplicated: Math.max(0, cards.length - 1),
        lost: recorded ? 0 : 1,
      })
    }
    const total = [...figures.values()].reduce(
      (a, f) => ({tried: a.tried + f.tried, survived: a.survived + f.survived, duplicated: a.duplicated + f.duplicated, lost: a.lost + f.lost}),
      {tried: 0, survived: 0, duplicated: 0, lost: 0},
    )
    console.log(
      [`hostile server (apply): tried ${total.tried}, survived ${total.survived}, duplicated ${total.duplicated}, lost ${total.lost}`]
        .concat([...figures].map(([name, f]) => `  ${name}: tried ${f.tried} survived ${f.survived} duplicated ${f.duplicated} lost ${f.lost}`))
        .join('\n'),
    )
    expect(total).toEqual({tried: HOSTILITIES.length + 1, survived: HOSTILITIES.length + 1, duplicated: 0, lost: 0})
    expect(live).toHaveLength(HOSTILITIES.length + 1)
  })
})
