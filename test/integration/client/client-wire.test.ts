import {createHash, createPrivateKey} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {afterEach, describe, expect, it} from 'vitest'
import {WechatPayClient, packageVersion, type WechatPayClientOptions} from '../../../engine/providers/wechatpay/client.js'
import {
  ApiError,
  ResponseVerificationError,
  TransportError,
  UnexpectedResponseError,
} from '../../../engine/providers/wechatpay/errors.js'
import {MediaApi} from '../../../engine/providers/wechatpay/media.js'
import {MembercardOpenApi} from '../../../engine/providers/wechatpay/membercard-open.js'
import {BrandCardMemberApi} from '../../../engine/providers/wechatpay/brand-card-member.js'
import {parseAuthorization, requestMessage, verifyMessage} from '../../../engine/providers/wechatpay/signing.js'
import {RateLimiterRegistry} from '../../../engine/providers/wechatpay/rate-limiter.js'
import {loadPlatformKey} from '../../../engine/providers/wechatpay/response-verification.js'
import {
  MCHID,
  MERCHANT_SERIAL,
  PUB_KEY_ID,
  merchantKeys,
  startScriptedServer,
  wechatpayKeys,
  type ScriptedServer,
} from './scripted-server.js'

const fixture = (name: string) =>
  readFileSync(fileURLToPath(new URL(`../../fixtures/wechatpay/${name}`, import.meta.url)), 'utf8')

let server: ScriptedServer | undefined
const clients: WechatPayClient[] = []

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
  await server?.close()
  server = undefined
})

function client(url: string, extra: Partial<WechatPayClientOptions> = {}): WechatPayClient {
  const c = new WechatPayClient({
    endpoint: url,
    mchid: MCHID,
    merchantSerial: MERCHANT_SERIAL,
    merchantPrivateKey: merchantKeys.privateKey,
    verification: {mode: 'public-key', publicKeyId: PUB_KEY_ID, publicKey: wechatpayKeys.publicKey},
    rateLimit: false,
    retry: {baseDelayMs: 1, maxDelayMs: 5},
    ...extra,
  })
  clients.push(c)
  return c
}

const card = JSON.stringify({card_id: 'pCARD', title: '金卡'})

describe('request signing', () => {
  it('signs method, path with query, timestamp, nonce and the exact body bytes', async () => {
    server = await startScriptedServer(() => ({status: 200, body: card}))
    const body = {title: '会员卡', brand: {brand_id: 'B1', display_name: '品牌'}, n: 1}
    await client(server.url).request({
      method: 'POST',
      path: '/v3/marketing/membercard-open/cards',
      query: {x: 'a b', y: 2},
      body,
    })
    const seen = server.seen[0]!
    expect(seen.signatureProblem).toBeUndefined()
    expect(seen.url).toBe('/v3/marketing/membercard-open/cards?x=a%20b&y=2')
    expect(seen.body.toString('utf8')).toBe(JSON.stringify(body))
  })

  it('signs a GET with an empty body line', async () => {
    server = await startScriptedServer(() => ({status: 200, body: card}))
    await client(server.url).request({method: 'GET', path: '/v3/marketing/membercard-open/cards/pCARD'})
    expect(server.seen[0]!.signatureProblem).toBeUndefined()
    expect(server.seen[0]!.body.length).toBe(0)
  })

  it('sends the documented headers, Content-Type only with a body, Wechatpay-Serial in public-key mode', async () => {
    server = await startScriptedServer(() => ({status: 204}))
    const c = client(server.url)
    await c.request({method: 'PATCH', path: '/v3/marketing/membercard-open/cards/p1', body: {title: 't'}})
    await c.request({method: 'DELETE', path: '/v3/marketing/membercard-open/cards/p1'})
    const [patch, del] = server.seen
    expect(patch!.headers).toMatchObject({
      accept: 'application/json',
      'content-type': 'application/json',
      'user-agent': `cardform/${packageVersion()}`,
      'wechatpay-serial': PUB_KEY_ID,
    })
    expect(patch!.headers.authorization).toMatch(
      new RegExp(`^WECHATPAY2-SHA256-RSA2048 mchid="${MCHID}",nonce_str="[0-9A-F]{32}",timestamp="\\d{10}",serial_no="${MERCHANT_SERIAL}",signature="`),
    )
    expect(del!.headers['content-type']).toBeUndefined()
    expect(packageVersion()).toMatch(/^\d+\.\d+\.\d+/)
  })

  it('includes the endpoint path prefix in the signed URL', async () => {
    server = await startScriptedServer(() => ({status: 200, body: card}))
    await client(`${server.url}/prefix/`).request({method: 'GET', path: '/v3/marketing/membercard-open/cards/p1'})
    expect(server.seen[0]!.url).toBe('/prefix/v3/marketing/membercard-open/cards/p1')
    expect(server.seen[0]!.signatureProblem).toBeUndefined()
  })

  it('URL-encodes card_id path segments in the wrappers', async () => {
    server = await startScriptedServer(() => ({status: 200, body: card}))
    await new MembercardOpenApi(client(server.url)).get('a/b?c')
    expect(server.seen[0]!.url).toBe('/v3/marketing/membercard-open/cards/a%2Fb%3Fc')
    expect(server.seen[0]!.signatureProblem).toBeUndefined()
  })
})

describe('response verification', () => {
  it('verifies an empty signed 204', async () => {
    server = await startScriptedServer(() => ({status: 204}))
    const res = await client(server.url).request({method: 'DELETE', path: '/v3/marketing/membercard-open/cards/p1'})
    expect(res).toMatchObject({status: 204, data: undefined, requestId: 'RID-1'})
  })

  it('rejects an unsigned 204 as an error, not data', async () => {
    server = await startScriptedServer(() => ({status: 204, unsigned: true}))
    const error = await client(server.url)
      .request({method: 'DELETE', path: '/v3/marketing/membercard-open/cards/p1'})
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ResponseVerificationError)
    expect((error as Error).message).toBe(
      'response lacks the Wechatpay-Timestamp, Wechatpay-Nonce, Wechatpay-Signature, Wechatpay-Serial headers: ' +
        'DELETE /v3/marketing/membercard-open/cards/p1 answered 204 (Request-ID RID-1); the response was rejected',
    )
  })

  it('does not retry a response that fails verification', async () => {
    server = await startScriptedServer(() => ({status: 200, body: card, signWith: {key: merchantKeys.privateKey, serial: PUB_KEY_ID}}))
    await expect(client(server.url).request({method: 'GET', path: '/v3/marketing/membercard-open/cards/p1'})).rejects.toThrow(
      ResponseVerificationError,
    )
    expect(server.seen).toHaveLength(1)
  })

  it('works in platform-certificate mode and then sends no Wechatpay-Serial', async () => {
    const cert = loadPlatformKey(fixture('platform-cert.pem'), undefined, 'fixture')
    const certKey = createPrivateKey(fixture('platform-key.pem'))
    server = await startScriptedServer(() => ({status: 200, body: card, signWith: {key: certKey, serial: cert.serial}}))
    const c = client(server.url, {verification: {mode: 'platform-certificate', certificates: new Map([[cert.serial, cert]])}})
    const res = await c.request({method: 'GET', path: '/v3/marketing/membercard-open/cards/pCARD'})
    expect(res.data).toEqual({card_id: 'pCARD', title: '金卡'})
    expect(server.seen[0]!.headers['wechatpay-serial']).toBeUndefined()
  })

  it('rejects an answer stamped 301 s away from the client clock, either way', async () => {
    server = await startScriptedServer(() => ({status: 200, body: card}))
    for (const skew of [301_000, -301_000]) {
      const error = await client(server.url, {clock: () => Date.now() + skew})
        .request({method: 'GET', path: '/v3/x'})
        .catch((e: unknown) => e)
      expect(error).toBeInstanceOf(ResponseVerificationError)
      expect((error as ResponseVerificationError).reason).toMatch(/^response Wechatpay-Timestamp is 30[12] s (behind|ahead of) the local clock/)
    }
    const ok = await client(server.url, {clock: () => Date.now() + 295_000}).request({method: 'GET', path: '/v3/x'})
    expect(ok.status).toBe(200)
  })

  it('refuses an answer whose Wechatpay-Signature-Type it cannot verify, and accepts WECHATPAY2-SHA256-RSA2048', async () => {
    server = await startScriptedServer((_r, i) => ({
      status: 200,
      body: card,
      headers: {'Wechatpay-Signature-Type': i === 0 ? 'WECHATPAY-BRAND-SHA256-RSA2048' : 'WECHATPAY2-SHA256-RSA2048'},
    }))
    const error = await client(server.url).request({method: 'GET', path: '/v3/x'}).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ResponseVerificationError)
    expect((error as ResponseVerificationError).reason).toMatch(/Wechatpay-Signature-Type "WECHATPAY-BRAND-SHA256-RSA2048" is not WECHATPAY2-SHA256-RSA2048/)
    expect((await client(server.url).request({method: 'GET', path: '/v3/x'})).status).toBe(200)
  })

  it('takes a signed 201 with the card as the success of a create (wechatpay-axios-plugin#19)', async () => {
    server = await startScriptedServer(() => ({status: 201, body: card}))
    const created = await new MembercardOpenApi(client(server.url)).create({out_request_no: 'req-201', title: '金卡'})
    expect(created.card_id).toBe('pCARD')
  })

  it('takes a signed 204 to a brand PATCH, documented as 200 with the card, as a success without the card', async () => {
    server = await startScriptedServer(() => ({status: 204}))
    const api = new BrandCardMemberApi(client(server.url))
    await expect(api.patch('pCARD', {brand_id: 'b1', card_title: '金卡'})).resolves.toBeUndefined()
    await expect(api.invalidate('pCARD', 'b1')).resolves.toBeUndefined()
  })

  it('sends a request answered 202 (accepted, not processed) again with the same body, even a plain POST', async () => {
    server = await startScriptedServer((_r, i) => (i === 0 ? {status: 202} : {status: 200, body: card}))
    const res = await client(server.url).request({method: 'POST', path: '/v3/marketing/membercard-open/cards', body: {a: 1}})
    expect(res.status).toBe(200)
    expect(server.seen).toHaveLength(2)
    expect(server.seen[1]!.body.equals(server.seen[0]!.body)).toBe(true)
  })

  it('reports a signed body that is not JSON', async () => {
    server = await startScriptedServer(() => ({status: 200, body: '<html>'}))
    await expect(client(server.url).request({method: 'GET', path: '/v3/x'})).rejects.toThrow(UnexpectedResponseError)
  })
})

describe('image upload on the wire', () => {
  it('signs the meta JSON, sends multipart bytes, and resends the identical bytes after a lost connection', async () => {
    const mediaUrl = 'https://media.example/pic.png'
    server = await startScriptedServer((_r, i) => (i === 0 ? {status: 0, reset: true} : {status: 200, body: JSON.stringify({media_url: mediaUrl})}))
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 1, 2])
    const res = await new MediaApi(client(server.url)).uploadImage({filename: 'logo.png', bytes: png})
    expect(res).toEqual({media_url: mediaUrl})
    const [first, second] = server.seen
    expect(server.seen).toHaveLength(2)
    expect(second!.body.equals(first!.body)).toBe(true)
    expect(second!.headers['content-type']).toBe(first!.headers['content-type'])
    expect(first!.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/)
    expect(second!.nonce).not.toBe(first!.nonce)
    const form = await new Request('http://wire.test/', {
      method: 'POST',
      headers: {'content-type': String(second!.headers['content-type'])},
      body: second!.body,
    }).formData()
    const meta = form.get('meta') as string
    expect(JSON.parse(meta)).toEqual({filename: 'logo.png', sha256: createHash('sha256').update(png).digest('hex')})
    // The body line of the signature is the meta part, so a check over the multipart body fails and one over meta passes.
    expect(second!.signatureProblem).toBe('signature does not verify')
    const auth = parseAuthorization(String(second!.headers.authorization))
    if (typeof auth === 'string') throw new Error(auth)
    const message = requestMessage({method: 'POST', url: second!.url, timestamp: Number(auth.timestamp), nonce: auth.nonce_str, body: meta})
    expect(verifyMessage(message, auth.signature, merchantKeys.publicKey)).toBe(true)
  })
})

describe('retries', () => {
  it('re-sends the identical body bytes of an idempotent create, re-signed with a new nonce', async () => {
    server = await startScriptedServer((_r, i) =>
      i === 0 ? {status: 500, body: '{"code":"SYSTEM_ERROR","message":"系统繁忙,请稍后重试"}'} : {status: 200, body: card},
    )
    const res = await new MembercardOpenApi(client(server.url)).create({out_request_no: 'req-1', title: '金卡', z: [1, 2]})
    expect(res.card_id).toBe('pCARD')
    const [first, second] = server.seen
    expect(second!.body.equals(first!.body)).toBe(true)
    expect(second!.nonce).not.toBe(first!.nonce)
    expect(second!.signatureProblem).toBeUndefined()
  })

  it('does not retry a non-idempotent POST after a 500', async () => {
    server = await startScriptedServer(() => ({status: 500, body: '{"code":"SYSTEM_ERROR","message":"系统繁忙,请稍后重试"}'}))
    const error = await client(server.url)
      .request({method: 'POST', path: '/v3/marketing/membercard-open/cards', body: {a: 1}})
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ApiError)
    expect(server.seen).toHaveLength(1)
  })

  it('does not retry a non-idempotent POST whose connection was reset', async () => {
    server = await startScriptedServer(() => ({status: 0, reset: true}))
    const error = await client(server.url)
      .request({method: 'POST', path: '/v3/brand/partner/card-member/cards/c1/anything', body: {a: 1}})
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TransportError)
    expect(error).toMatchObject({code: 'ECONNRESET', attempts: 1})
    expect(server.seen).toHaveLength(1)
  })

  it('retries a refused connection up to maxAttempts, even for a POST', async () => {
    const closed = await startScriptedServer(() => ({status: 200}))
    const url = closed.url
    await closed.close()
    const error = await client(url, {retry: {maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2}})
      .request({method: 'POST', path: '/v3/x', body: {}})
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TransportError)
    expect(error).toMatchObject({code: 'ECONNREFUSED', attempts: 3})
    expect((error as Error).message).toBe('connection refused (ECONNREFUSED): POST /v3/x after 3 attempts')
  })

  it('honours Retry-After in seconds', async () => {
    server = await startScriptedServer((_r, i) =>
      i === 0
        ? {status: 429, body: '{"code":"RATELIMIT_EXCEEDED","message":"请求未受理"}', headers: {'retry-after': '2'}}
        : {status: 200, body: card},
    )
    const slept: number[] = []
    const c = client(server.url, {
      sleep: async (ms) => {
        slept.push(ms)
      },
    })
    await c.request({method: 'GET', path: '/v3/marketing/membercard-open/cards/p1'})
    expect(slept).toEqual([2000])
  })

  it('times out a request that never answers', async () => {
    server = await startScriptedServer(() => ({status: 0, hang: true}))
    const error = await client(server.url, {transport: {headersTimeoutMs: 150}, retry: {maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1}})
      .request({method: 'GET', path: '/v3/x'})
      .catch((e: unknown) => e)
    expect(error).toMatchObject({name: 'TransportError', code: 'UND_ERR_HEADERS_TIMEOUT', attempts: 2})
  })

  it('gives up with the API error after maxAttempts', async () => {
    server = await startScriptedServer(() => ({status: 503, body: '{"code":"SERVICE_UNAVAILABLE","message":"稍后再试"}'}))
    const error = await client(server.url, {retry: {maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1}})
      .request({method: 'GET', path: '/v3/marketing/membercard-open/cards/p1'})
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ApiError)
    expect(error).toMatchObject({status: 503, code: 'SERVICE_UNAVAILABLE', requestId: 'RID-3', attempts: 3})
    expect(server.seen).toHaveLength(3)
  })
})

describe('debug log', () => {
  it('writes one line per attempt with method, path, status, duration, Request-ID and retries, and no secrets', async () => {
    server = await startScriptedServer((_r, i) =>
      i === 0 ? {status: 502, body: '{"code":"SYSTEM_ERROR","message":"x"}'} : {status: 200, body: card},
    )
    const lines: string[] = []
    await new MembercardOpenApi(client(server.url, {logger: (l) => lines.push(l)})).create({out_request_no: 'o1', title: 't'})
    expect(lines).toHaveLength(2)
    expect(lines[0]).toMatch(
      /^wechatpay POST \/v3\/marketing\/membercard-open\/cards 502 \d+ms request-id=RID-1 attempt=1\/5 retry-in=\d+ms reason="status 502"$/,
    )
    expect(lines[1]).toMatch(/^wechatpay POST \/v3\/marketing\/membercard-open\/cards 200 \d+ms request-id=RID-2 attempt=2\/5$/)
    const all = lines.join('\n')
    for (const secret of ['signature=', 'Authorization', 'authorization', 'WECHATPAY2', 'BEGIN', 'PRIVATE', server.seen[0]!.nonce!]) {
      expect(all).not.toContain(secret)
    }
  })

  it('logs a rejected response with its reason', async () => {
    server = await startScriptedServer(() => ({status: 200, body: card, unsigned: true}))
    const lines: string[] = []
    await client(server.url, {logger: (l) => lines.push(l)})
      .request({method: 'GET', path: '/v3/x'})
      .catch(() => undefined)
    expect(lines).toEqual([expect.stringMatching(/^wechatpay GET \/v3\/x 200 \d+ms request-id=RID-1 attempt=1\/5 rejected="response lacks/)])
  })
})

describe('CARDFORM_LOG=debug', () => {
  it('sends the attempt lines to stderr when no logger is given', async () => {
    server = await startScriptedServer(() => ({status: 200, body: card}))
    const previous = process.env.CARDFORM_LOG
    const written: string[] = []
    const write = process.stderr.write.bind(process.stderr)
    process.env.CARDFORM_LOG = 'debug'
    process.stderr.write = ((chunk: string | Uint8Array) => {
      written.push(String(chunk))
      return true
    }) as typeof process.stderr.write
    try {
      await client(server.url).request({method: 'GET', path: '/v3/marketing/membercard-open/cards/pL'})
    } finally {
      process.stderr.write = write
      if (previous === undefined) delete process.env.CARDFORM_LOG
      else process.env.CARDFORM_LOG = previous
    }
    expect(written).toEqual([expect.stringMatching(/^wechatpay GET \/v3\/marketing\/membercard-open\/cards\/pL 200 \d+ms request-id=RID-1 attempt=1\/5\n$/)])
  })
})

describe('rate limiting', () => {
  it('paces requests of one merchant at the configured qps', async () => {
    server = await startScriptedServer(() => ({status: 200, body: card}))
    const registry = new RateLimiterRegistry()
    const a = client(server.url, {rateLimit: {qps: 20}, rateLimiters: registry})
    const b = client(server.url, {rateLimit: {qps: 20}, rateLimiters: registry})
    const started = Date.now()
    await Promise.all(
      Array.from({length: 10}, (_, i) => (i % 2 ? a : b).request({method: 'GET', path: '/v3/marketing/membercard-open/cards/p'})),
    )
    // Ten requests at 20/s with burst 1, shared by both clients: the last may start 9 × 50 ms after the first.
    expect(Date.now() - started).toBeGreaterThanOrEqual(440)
  })
})
