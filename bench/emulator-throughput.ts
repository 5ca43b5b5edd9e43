import {readFileSync} from 'node:fs'
import {createPrivateKey, sign} from 'node:crypto'
import {promisify} from 'node:util'
import {Agent, request} from 'undici'
import {createNonce, formatAuthorization, requestMessage} from '../engine/providers/wechatpay/signing.js'
import {startEmulator} from '../emulator/index.js'
import type {Benchmark} from './run.js'

/**
 * How many signed GETs per second the emulator serves at 0 latency (the plan benchmark refreshes 1,000 cards).
 * The emulator and the load generator share this process (and its CPU): the figure is a lower bound.
 * Usage: `npm run bench -- emulator [cards=1000] [concurrency=16]`
 */
export const emulatorBenchmark: Benchmark = {
  name: 'emulator',
  description: 'signed GETs per second the emulator serves at 0 ms latency; args [cards] [concurrency]',
  async run(args) {
    await measure(Number(args[0] ?? 1000), Number(args[1] ?? 16))
  },
}

async function measure(cards: number, concurrency: number): Promise<void> {
  const emu = await startEmulator({seed: 1})
  const c = emu.credentials
  const key = createPrivateKey(readFileSync(c.merchant_private_key_file))
  const signAsync = promisify(sign)
  const dispatcher = new Agent({connections: concurrency})

  async function authHeaders(method: string, path: string, text: string): Promise<Record<string, string>> {
    const timestamp = Math.floor(Date.now() / 1000)
    const nonce = createNonce()
    const signature = (await signAsync('sha256', Buffer.from(requestMessage({method, url: path, timestamp, nonce, body: text})), key)).toString('base64')
    const headers: Record<string, string> = {
      Accept: 'application/json',
      'Wechatpay-Serial': c.wechatpay_public_key_id,
      Authorization: formatAuthorization({mchid: c.mchid, serial_no: c.merchant_serial, nonce_str: nonce, timestamp: String(timestamp), signature}),
    }
    if (text) headers['Content-Type'] = 'application/json'
    return headers
  }

  async function call(method: string, path: string, body?: unknown): Promise<{status: number; json: any}> {
    const text = body === undefined ? '' : JSON.stringify(body)
    const headers = await authHeaders(method, path, text)
    const res = await request(emu.url + path, {method: method as 'GET', headers, dispatcher, ...(text ? {body: text} : {})})
    const out = await res.body.text()
    return {status: res.statusCode, json: out ? JSON.parse(out) : undefined}
  }

  const ids: string[] = []
  for (let i = 0; i < cards; i++) {
    const r = await call('POST', '/v3/marketing/membercard-open/cards', {
      appid: 'wxea9c30890f48d5ae',
      logo_url: 'https://wxpaylogo.qpic.cn/wxpaylogo/xxxxx/0',
      brand: {brand_id: '1004', display_name: '微信支付'},
      title: `卡${i}`,
      background_picture_url: 'https://wxpaylogo.qpic.cn/wxpaylogo/xxxxx/0',
      description: '使用须知',
      code_type: 'BAR_CODE',
      date_information: {type: 'PERMANENT'},
      code_mode: 'SYSTEM_ALLOCATE',
      out_request_no: `bench-${i}`,
    })
    ids.push(r.json.card_id)
  }

  // The GETs are signed before the clock starts (the emulator, like the real API as far as documented, does not
  // refuse a reused nonce within the ±300 s window), so the figure measures the emulator, not the load generator.
  const signed = await Promise.all(ids.map(async (id) => {
    const path = `/v3/marketing/membercard-open/cards/${id}`
    return {path, headers: await authHeaders('GET', path, '')}
  }))
  const began = performance.now()
  let next = 0
  let failures = 0
  await Promise.all(
    Array.from({length: concurrency}, async () => {
      while (next < signed.length) {
        const {path, headers} = signed[next++]!
        const res = await request(emu.url + path, {method: 'GET', headers, dispatcher})
        await res.body.text()
        if (res.statusCode !== 200) failures++
      }
    }),
  )
  const seconds = (performance.now() - began) / 1000
  process.stdout.write(
    `${ids.length} signed GETs, concurrency ${concurrency}: ${seconds.toFixed(3)} s, ${Math.round(ids.length / seconds)} GET/s, ${failures} failures\n`,
  )
  await dispatcher.close()
  await emu.close()
}
