import {createPrivateKey, createPublicKey} from 'node:crypto'
import {readFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'
import {startEmulator} from '../emulator/index.js'
import {WechatPayClient} from '../engine/providers/wechatpay/client.js'
import {loadCredentialsFile} from '../engine/providers/wechatpay/credentials.js'
import {MembercardOpenApi} from '../engine/providers/wechatpay/membercard-open.js'
import {createNonce, requestMessage, responseMessage, signMessage, verifyMessage} from '../engine/providers/wechatpay/signing.js'

/**
 * `get` benchmark: throughput of MembercardOpenApi.get against the in-process emulator at 0 ms latency, over one
 * keep-alive connection pool, rate limiter off. Client and emulator share one process (and its CPU), so each GET
 * costs two RSA-2048 signatures and two verifications in this process; the ideal bound reported beside the figure
 * is that crypto alone, measured in the same process.
 *
 * Usage: `npm run bench -- get [--requests N] [--concurrency C] [--cards K]`
 */

export interface GetBenchResult {
  requests: number
  concurrency: number
  seconds: number
  requestsPerSecond: number
  p50Ms: number
  p99Ms: number
  /** Requests per second the RSA work alone would allow in this process. */
  cryptoBoundPerSecond: number
}

export async function runGetBenchmark(opts: {requests: number; concurrency: number; cards: number}): Promise<GetBenchResult> {
  const emu = await startEmulator()
  const client = new WechatPayClient({
    ...loadCredentialsFile(emu.credentialsFile),
    rateLimit: false,
    transport: {connections: opts.concurrency},
  })
  try {
    const api = new MembercardOpenApi(client)
    const ids: string[] = []
    for (let i = 0; i < opts.cards; i++) {
      const card = await api.create({
        appid: 'wxea9c30890f48d5ae',
        logo_url: 'https://wxpaylogo.qpic.cn/wxpaylogo/xxxxx/0',
        brand: {brand_id: '1004', display_name: '基准品牌'},
        title: `基准卡${i}`,
        background_picture_url: 'https://wxpaylogo.qpic.cn/wxpaylogo/xxxxx/0',
        description: '基准测试用会员卡',
        code_type: 'BAR_CODE',
        date_information: {type: 'PERMANENT'},
        code_mode: 'SYSTEM_ALLOCATE',
        out_request_no: `bench-${Date.now()}-${i}`,
      })
      ids.push(card.card_id)
    }
    // Warm up the pool and the JIT.
    await Promise.all(ids.slice(0, opts.concurrency).map((id) => api.get(id)))

    const latencies: number[] = []
    let next = 0
    const started = performance.now()
    const worker = async (): Promise<void> => {
      while (next < opts.requests) {
        const id = ids[next++ % ids.length]!
        const t = performance.now()
        await api.get(id)
        latencies.push(performance.now() - t)
      }
    }
    await Promise.all(Array.from({length: opts.concurrency}, worker))
    const seconds = (performance.now() - started) / 1000
    latencies.sort((a, b) => a - b)
    return {
      requests: opts.requests,
      concurrency: opts.concurrency,
      seconds,
      requestsPerSecond: opts.requests / seconds,
      p50Ms: latencies[Math.floor(latencies.length * 0.5)]!,
      p99Ms: latencies[Math.floor(latencies.length * 0.99)]!,
      cryptoBoundPerSecond: measureCryptoBound(emu.credentials.merchant_private_key_file),
    }
  } finally {
    await client.close()
    await emu.close()
  }
}

/**
 * Sign a request, verify it, sign a response, verify it: the per-GET RSA work, repeated for about a second. The
 * merchant key stands in for the emulator's response key too (both RSA-2048, so the cost is the same).
 */
function measureCryptoBound(merchantKeyFile: string): number {
  const merchant = createPrivateKey(readFileSync(merchantKeyFile, 'utf8'))
  const merchantPublic = createPublicKey(merchant)
  const body = '{"card_id":"pbLatjvWOibDc5-TBnbUk1pD12o0","title":"基准卡"}'
  let n = 0
  const started = performance.now()
  while (performance.now() - started < 1000) {
    const ts = Math.floor(Date.now() / 1000)
    const nonce = createNonce()
    const req = requestMessage({method: 'GET', url: '/v3/marketing/membercard-open/cards/p1', timestamp: ts, nonce, body: ''})
    verifyMessage(req, signMessage(req, merchant), merchantPublic)
    const res = responseMessage(ts, nonce, body)
    verifyMessage(res, signMessage(res, merchant), merchantPublic)
    n++
  }
  return n / ((performance.now() - started) / 1000)
}

export async function run(args: readonly string[] = []): Promise<void> {
  const {values} = parseArgs({
    args: [...args],
    options: {
      requests: {type: 'string', default: '5000'},
      concurrency: {type: 'string', default: '16'},
      cards: {type: 'string', default: '100'},
    },
    allowPositionals: true,
  })
  const opts = {requests: Number(values.requests), concurrency: Number(values.concurrency), cards: Number(values.cards)}
  for (const [k, v] of Object.entries(opts)) {
    if (!(Number.isInteger(v) && v > 0)) throw new RangeError(`--${k} must be a positive integer, got ${v}`)
  }
  const r = await runGetBenchmark(opts)
  const lines = [
    `get: ${r.requests} GETs, concurrency ${r.concurrency}, ${r.seconds.toFixed(2)} s`,
    `  throughput  ${r.requestsPerSecond.toFixed(0)} requests/s (client and emulator in one process, keep-alive, limiter off)`,
    `  latency     p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms`,
    `  bound       ${r.cryptoBoundPerSecond.toFixed(0)} requests/s for the RSA work alone on one thread (2 signs + 2 verifies per GET)`,
    `  ratio       ${(r.requestsPerSecond / r.cryptoBoundPerSecond).toFixed(2)} of the crypto bound`,
  ]
  process.stdout.write(`${lines.join('\n')}\n`)
}

export const clientGetBenchmark = {name: 'get', description: 'client GET throughput against the in-process emulator', run}
export default clientGetBenchmark

// Runnable on its own too: `node dist/bench/client-get.js [--requests N ...]`.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await run(process.argv.slice(2))
}
