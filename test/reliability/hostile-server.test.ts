import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'
import type {RunningEmulator} from '../../emulator/index.js'
import type {WechatPayClientOptions} from '../../engine/providers/wechatpay/client.js'
import {ApiError, ResponseVerificationError, TransportError, UnexpectedResponseError} from '../../engine/providers/wechatpay/errors.js'
import {MEMBERCARD_OPEN_CARDS, MembercardOpenApi} from '../../engine/providers/wechatpay/membercard-open.js'
import {Harness, membercardBody} from '../integration/client/emulator-helpers.js'
import {startHostileServer, streamHuge, type Behave, type HostileServer} from './hostile-server.js'

/**
 * Issue 11, experiment 3, at the client: a hostile server on 127.0.0.1 (hostile-server.ts) answers each call of a
 * real WechatPayClient. Every hostile answer must end in an error that names what happened, within bounded time and
 * memory, after a bounded number of attempts; none may come back as data. The apply-level half (nothing written to
 * state, no card created twice) is hostile-apply.test.ts.
 */

const MiB = 1024 * 1024
const h = new Harness()
let emu: RunningEmulator
const servers: HostileServer[] = []

beforeAll(async () => {
  emu = await h.emulator({seed: 11})
})
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()))
})
afterAll(() => h.closeAll())

/** Behaviours tried and whether the client survived each (a clear error, bounded time, memory and attempts). */
const survived = new Map<string, boolean>()

async function hostile(behave: Behave, overrides: Partial<WechatPayClientOptions> = {}) {
  const server = await startHostileServer(emu, behave)
  servers.push(server)
  const client = h.client(emu, {endpoint: server.url, retry: {maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20}, ...overrides})
  return {server, client, open: new MembercardOpenApi(client)}
}

const listOnce = (client: ReturnType<typeof h.client>) =>
  client.request({method: 'GET', path: MEMBERCARD_OPEN_CARDS, query: {limit: 1}}).then(
    () => undefined,
    (e: unknown) => e as Error,
  )

/** Peak RSS growth over `run`, sampled every 10 ms. */
async function peakRssGrowth<T>(run: () => Promise<T>): Promise<{value: T; growth: number}> {
  globalThis.gc?.()
  const base = process.memoryUsage().rss
  let peak = base
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss)
  }, 10)
  try {
    const value = await run()
    peak = Math.max(peak, process.memoryUsage().rss)
    return {value, growth: peak - base}
  } finally {
    clearInterval(timer)
  }
}

describe('oversized bodies', () => {
  it('stops reading a 500 MB chunked answer at 4 MiB, with bounded memory, and does not retry it', async () => {
    let sent = 0
    const {server, client} = await hostile(async (_req, res) => {
      // A safety valve at 64 MiB: a client that reads on fails here quickly instead of eating the machine.
      sent = await streamHuge(res, {status: 200, totalBytes: 500 * MiB, declareLength: false, headers: {}, stopAfter: 64 * MiB})
    })
    const {value: error, growth} = await peakRssGrowth(() => listOnce(client))
    expect(error).toBeInstanceOf(UnexpectedResponseError)
    expect(error!.message).toMatch(/^response body exceeds 4 MiB: GET \/v3\/marketing\/membercard-open\/cards answered 200/)
    expect(growth).toBeLessThan(64 * MiB)
    expect(server.seen).toHaveLength(1) // not retried: a server that sent 4 MiB once would send them again
    await expect.poll(() => server.closedEarly).toBe(1)
    expect(sent).toBeLessThan(32 * MiB)
    survived.set('oversized body, chunked (500 MB)', true)
  })

  it('refuses an answer whose Content-Length declares 500 MB before reading it', async () => {
    let sent = 0
    const {server, client} = await hostile(async (_req, res) => {
      sent = await streamHuge(res, {status: 200, totalBytes: 500 * MiB, declareLength: true, headers: {}, stopAfter: 64 * MiB})
    })
    const error = await listOnce(client)
    expect(error).toBeInstanceOf(UnexpectedResponseError)
    expect(error!.message).toMatch(/^response body exceeds 4 MiB \(Content-Length 524288000\)/)
    expect(server.seen).toHaveLength(1)
    expect(sent).toBeLessThan(32 * MiB)
    survived.set('oversized body, declared (500 MB)', true)
  })

  it('caps error answers too, and takes the cap from the transport options', async () => {
    const {client} = await hostile((_req, _res, t) => t.reply(500, JSON.stringify({code: 'SYSTEM_ERROR', message: 'x'.repeat(4096)})), {
      transport: {maxResponseBytes: 1024},
    })
    const error = await listOnce(client)
    expect(error!.message).toMatch(/^response body exceeds 1 KiB/)
  })
})

describe('slow bodies', () => {
  it('fires the body timeout when the body stops, and gives up after the attempts allowed', async () => {
    const {server, client} = await hostile((_req, res) => {
      res.writeHead(200, {'content-type': 'application/json'})
      res.write('{"data":[') // then silence
    }, {transport: {bodyTimeoutMs: 200}})
    const started = Date.now()
    const error = await listOnce(client)
    expect(error).toBeInstanceOf(TransportError)
    expect(error!.message).toBe('timed out reading the response body (UND_ERR_BODY_TIMEOUT): GET /v3/marketing/membercard-open/cards after 3 attempts')
    expect(server.seen).toHaveLength(3)
    expect(Date.now() - started).toBeLessThan(5_000)
    survived.set('slow body (silence)', true)
  })

  it('ends a slowloris answer (a byte every 50 ms, never silent long enough for the body timeout) at the response deadline', async () => {
    const {server, client} = await hostile((_req, res) => {
      res.writeHead(200, {'content-type': 'application/json'})
      res.write('{"pad":"')
      // Trickles for 20 s at most: without a deadline the client would wait all of it.
      let n = 0
      const timer = setInterval(() => {
        if (res.destroyed || ++n > 400) {
          clearInterval(timer)
          res.destroy()
          return
        }
        res.write(' ')
      }, 50)
      res.on('close', () => clearInterval(timer))
    }, {transport: {bodyTimeoutMs: 500, responseTimeoutMs: 800}, retry: {maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 20}})
    const started = Date.now()
    const error = await listOnce(client)
    expect(error).toBeInstanceOf(TransportError)
    expect(error!.message).toBe('response not complete within 800 ms (CARDFORM_RESPONSE_DEADLINE): GET /v3/marketing/membercard-open/cards after 2 attempts')
    expect(server.seen).toHaveLength(2)
    expect(Date.now() - started).toBeLessThan(5_000)
    survived.set('slow body (slowloris trickle)', true)
  })
})

describe('redirects', () => {
  let elsewhere: Server
  let elsewhereHits = 0
  let elsewhereUrl = ''
  beforeAll(async () => {
    elsewhere = createServer((_req, res) => {
      elsewhereHits++
      res.end('{}')
    })
    await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve))
    elsewhereUrl = `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}`
  })
  afterAll(() => new Promise<void>((resolve) => elsewhere.close(() => resolve())))

  it.each([301, 302, 303, 307, 308])('never follows a %i to another host, and says so', async (status) => {
    const {server, open} = await hostile((req, _res, t) =>
      t.reply(status, '', {headers: {location: `${elsewhereUrl}${req.url}`}}),
    )
    const error = await open.create(membercardBody()).catch((e: unknown) => e as Error)
    expect(error).toBeInstanceOf(UnexpectedResponseError)
    expect(error.message).toMatch(
      new RegExp(`^redirect to another host \\(127\\.0\\.0\\.1:\\d+\\) refused: POST /v3/marketing/membercard-open/cards answered ${status}`),
    )
    expect(elsewhereHits).toBe(0)
    expect(server.seen).toHaveLength(1)
    survived.set(`redirect ${status} to another host`, true)
  })

  it('does not follow a redirect to the same host either (the signature covers the URL)', async () => {
    const {server, client} = await hostile((_req, _res, t) => t.reply(307, '', {headers: {location: '/v3/elsewhere'}}))
    const error = await listOnce(client)
    expect(error!.message).toMatch(/^redirect to "\/v3\/elsewhere" refused: GET \/v3\/marketing\/membercard-open\/cards answered 307/)
    expect(server.seen).toHaveLength(1)
  })
})

describe('bodies that are not what the API documents', () => {
  it('reports a signed 200 that is not JSON', async () => {
    const {open} = await hostile((_req, _res, t) => t.reply(200, '{"card_id": "pAAAA", '))
    await expect(open.create(membercardBody())).rejects.toThrow(/^response body is not JSON: POST \/v3\/marketing\/membercard-open\/cards answered 200/)
    survived.set('malformed JSON', true)
  })

  it.each([
    ['no card_id', {title: '卡'}],
    ['a numeric card_id', {card_id: 42}],
    ['an empty card_id', {card_id: ''}],
    ['a card_id that is a path', {card_id: '../../v3/certificates'}],
    ['an array', [{card_id: 'pAAAAAAAAAAAAAAAAAAAAAAAAAAA'}]],
  ])('refuses a create answered 200 with %s', async (_what, body) => {
    const {open} = await hostile((_req, _res, t) => t.reply(200, JSON.stringify(body)))
    const error = await open.create(membercardBody()).catch((e: unknown) => e as Error)
    expect(error).toBeInstanceOf(UnexpectedResponseError)
    expect(error.message).toMatch(/^response is not a card record \(card_id\b.*\): POST \/v3\/marketing\/membercard-open\/cards answered 200/)
    survived.set(`2xx create body: ${_what}`, true)
  })

  it('refuses a create answered with the record of another create (another out_request_no)', async () => {
    const {open} = await hostile(async (req, _res, t) => {
      const up = await t.forward()
      const card = JSON.parse(up.body.toString('utf8')) as Record<string, unknown>
      t.reply(200, JSON.stringify({...card, out_request_no: 'someone-else'}))
      void req
    })
    const body = membercardBody()
    await expect(open.create(body)).rejects.toThrow(
      /^response is the record of another create \(out_request_no "someone-else", sent ".*"\): POST \/v3\/marketing\/membercard-open\/cards answered 200/,
    )
    survived.set('2xx create body: another out_request_no', true)
  })
})

describe('202: accepted, not yet processed', () => {
  it('repeats the call with the identical bytes and out_request_no until it is done', async () => {
    const {server, open} = await hostile(async (req, _res, t) => {
      if (req.index < 2) return t.reply(202, '')
      t.pass(await t.forward())
    })
    const body = membercardBody()
    const card = await open.create(body)
    expect(card.card_id).toMatch(/^p/)
    expect(server.seen).toHaveLength(3)
    const bodies = server.seen.map((r) => r.body.toString('utf8'))
    expect(new Set(bodies).size).toBe(1)
    expect(JSON.parse(bodies[0]!)).toMatchObject({out_request_no: body.out_request_no})
    // Each repeat is signed anew (reference §2), never replayed.
    expect(new Set(server.seen.map((r) => r.headers.authorization)).size).toBe(3)
    survived.set('202 then 200', true)
  })

  it('repeats a PATCH answered 202, so the change is made and not only reported', async () => {
    const honestClient = h.client(emu)
    const card = await new MembercardOpenApi(honestClient).create(membercardBody({description: '旧的'}))
    const {server, open} = await hostile(async (req, _res, t) => {
      if (req.index === 0) return t.reply(202, '')
      t.pass(await t.forward())
    })
    await open.patch(card.card_id, {description: '新的'})
    expect(server.seen.map((r) => r.method)).toEqual(['PATCH', 'PATCH'])
    expect(emu.admin.getCard(card.card_id)!.card.description).toBe('新的')
    survived.set('202 on PATCH', true)
  })

  it('gives up after the attempts allowed with an error that says the call was not processed', async () => {
    const {server, open} = await hostile((_req, _res, t) => t.reply(202, ''))
    const error = await open.create(membercardBody()).catch((e: unknown) => e as Error)
    expect(error).toBeInstanceOf(ApiError)
    expect(error.message).toMatch(
      /^POST \/v3\/marketing\/membercard-open\/cards failed: 202 accepted but not processed yet; repeat with the same parameters \(Request-ID HOSTILE-3\)$/,
    )
    expect(server.seen).toHaveLength(3)
    survived.set('202 forever', true)
  })
})

describe('answers that are not authentic', () => {
  it('rejects an old signed answer replayed (timestamp 400 s old)', async () => {
    const {client} = await hostile(async (_req, _res, t) => {
      const up = await t.forward()
      t.reply(up.status, up.body.toString('utf8'), {timestamp: Math.floor(Date.now() / 1000) - 400})
    })
    const error = await listOnce(client)
    expect(error).toBeInstanceOf(ResponseVerificationError)
    expect(error!.message).toMatch(/^response Wechatpay-Timestamp is 40\d s behind the local clock \(allowed ±300 s\)/)
    survived.set('replayed old answer (timestamp skew)', true)
  })

  it('rejects an earlier signed answer replayed within the 300 s window (same nonce)', async () => {
    let first: {status: number; headers: Record<string, string>; body: string} | undefined
    const {open} = await hostile(async (_req, res, t) => {
      if (first === undefined) {
        const up = await t.forward()
        first = {status: up.status, headers: up.headers as Record<string, string>, body: up.body.toString('utf8')}
        return t.pass(up)
      }
      // The answer to the first create, byte for byte, for the second: a valid signature, the wrong card.
      const {['content-length']: _cl, ['transfer-encoding']: _te, connection: _c, ...headers} = first.headers
      res.writeHead(first.status, headers)
      res.end(first.body)
    })
    const a = await open.create(membercardBody())
    const error = await open.create(membercardBody()).catch((e: unknown) => e as Error)
    expect(error).toBeInstanceOf(ResponseVerificationError)
    expect(error.message).toMatch(/^response Wechatpay-Nonce was already used by an earlier answer \(a replayed response\)/)
    expect(error.message).not.toContain(a.card_id)
    survived.set('replayed answer within the window (same nonce)', true)
  })

  it.each(['Wechatpay-Signature', 'Wechatpay-Timestamp', 'Wechatpay-Nonce', 'Wechatpay-Serial'])(
    'rejects an answer without %s, and does not retry it',
    async (header) => {
      const {server, client} = await hostile(async (_req, _res, t) => {
        const up = await t.forward()
        t.reply(up.status, up.body.toString('utf8'), {omit: [header]})
      })
      const error = await listOnce(client)
      expect(error).toBeInstanceOf(ResponseVerificationError)
      expect(error!.message).toMatch(new RegExp(`^response lacks the ${header} header: GET`))
      expect(server.seen).toHaveLength(1)
      survived.set(`missing ${header}`, true)
    },
  )

  it('rejects an answer under a Wechatpay-Serial it does not know', async () => {
    const {client} = await hostile(async (_req, _res, t) => {
      const up = await t.forward()
      t.reply(up.status, up.body.toString('utf8'), {serial: 'PUB_KEY_ID_0000000000000000000000000000000000'})
    })
    const error = await listOnce(client)
    expect(error).toBeInstanceOf(ResponseVerificationError)
    expect(error!.message).toMatch(/^response Wechatpay-Serial "PUB_KEY_ID_0+" is not the configured WeChat Pay public key PUB_KEY_ID_\d+/)
    survived.set('wrong Wechatpay-Serial', true)
  })
})

afterAll(() => {
  const tried = survived.size
  const ok = [...survived.values()].filter(Boolean).length
  console.log(`hostile server (client): tried ${tried} behaviours, survived ${ok}`)
})
