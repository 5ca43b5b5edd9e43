import {createPrivateKey, randomBytes, type KeyObject} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'
import path from 'node:path'
import type {RunningEmulator} from '../../emulator/index.js'
import {responseMessage, signMessage} from '../../engine/providers/wechatpay/signing.js'

/**
 * A hostile WeChat Pay server on 127.0.0.1 (issue 11, experiment 3): it stands between cardform and the emulator and
 * answers each request as the test's `behave` says, either by forwarding it to the emulator (so a create really
 * happens) and then lying about the answer, or by answering on its own. Answers it makes up are signed with the
 * emulator's WeChat Pay key, so they pass verification unless the test breaks the signature on purpose: what is
 * tested is what cardform does with an authentic but hostile answer.
 */

export interface HostileRequest {
  method: string
  url: string
  headers: IncomingHttpHeaders
  body: Buffer
  index: number
}

export interface Upstream {
  status: number
  headers: IncomingHttpHeaders
  body: Buffer
}

export interface SignOptions {
  /** Unix seconds; default now. */
  timestamp?: number
  nonce?: string
  serial?: string
  key?: KeyObject
  /** Leave these signature headers out. */
  omit?: string[]
}

export interface HostileTools {
  /** Send the request on to the emulator, untouched, and return its (signed) answer. */
  forward(): Promise<Upstream>
  /** The four Wechatpay-* headers over `body`, signed with the emulator's WeChat Pay key unless told otherwise. */
  sign(body: string, options?: SignOptions): Record<string, string>
  /** Answer `status` with `body`, signed (or as `sign` options say). */
  reply(status: number, body: string, options?: SignOptions & {headers?: Record<string, string>}): void
  /** Answer as the emulator answered (headers and body byte for byte). */
  pass(up: Upstream): void
}

export type Behave = (req: HostileRequest, res: ServerResponse, tools: HostileTools) => void | Promise<void>

export interface HostileServer {
  url: string
  seen: HostileRequest[]
  /** Connections the client closed (or reset) before the server finished its answer. */
  closedEarly: number
  /** Swap the behaviour (e.g. an honest server for the second apply). */
  behave: Behave
  close(): Promise<void>
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'host'])

/** The emulator's WeChat Pay private key (it sits beside credentials.json; emulator/credentials.ts). */
export function emulatorWechatpayKey(emu: RunningEmulator): KeyObject {
  return createPrivateKey(readFileSync(path.join(path.dirname(emu.credentialsFile), 'emulator_wechatpay_key.pem'), 'utf8'))
}

/** Forward everything: an honest server. */
export const honest: Behave = async (_req, _res, t) => t.pass(await t.forward())

export async function startHostileServer(emu: RunningEmulator, behave: Behave = honest): Promise<HostileServer> {
  const key = emulatorWechatpayKey(emu)
  const upstream = new URL(emu.url)
  const state: HostileServer = {url: '', seen: [], closedEarly: 0, behave, close: async () => {}}

  const sign = (body: string, o: SignOptions = {}): Record<string, string> => {
    const ts = String(o.timestamp ?? Math.floor(Date.now() / 1000))
    const nonce = o.nonce ?? randomBytes(16).toString('hex').toUpperCase()
    const headers: Record<string, string> = {
      'wechatpay-timestamp': ts,
      'wechatpay-nonce': nonce,
      'wechatpay-serial': o.serial ?? emu.credentials.wechatpay_public_key_id,
      'wechatpay-signature': signMessage(responseMessage(ts, nonce, body), o.key ?? key),
    }
    for (const h of o.omit ?? []) delete headers[h.toLowerCase()]
    return headers
  }

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const seen: HostileRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks),
        index: state.seen.length,
      }
      state.seen.push(seen)
      res.on('close', () => {
        if (!res.writableFinished) state.closedEarly++
      })
      const tools: HostileTools = {
        forward: () => forward(upstream, seen),
        sign,
        reply(status, body, o = {}) {
          const headers: Record<string, string> = {'request-id': `HOSTILE-${seen.index + 1}`, ...sign(body, o), ...o.headers}
          if (body !== '') headers['content-type'] = 'application/json'
          res.writeHead(status, headers)
          res.end(body)
        },
        pass(up) {
          const h: Record<string, string | string[]> = {}
          for (const [k, v] of Object.entries(up.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) h[k] = v
          h['content-length'] = String(up.body.length)
          res.writeHead(up.status, h)
          res.end(up.body)
        },
      }
      Promise.resolve(state.behave(seen, res, tools)).catch(() => req.socket.destroy())
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  state.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve())
      server.closeAllConnections()
    })
  return state
}

function forward(upstream: URL, req: HostileRequest): Promise<Upstream> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | string[]> = {}
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v
    headers['content-length'] = String(req.body.length)
    const out = httpRequest({host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers}, (up) => {
      const parts: Buffer[] = []
      up.on('data', (c: Buffer) => parts.push(c))
      up.on('end', () => resolve({status: up.statusCode ?? 502, headers: up.headers, body: Buffer.concat(parts)}))
      up.on('error', reject)
    })
    out.on('error', reject)
    out.end(req.body)
  })
}

/**
 * Stream `totalBytes` of a JSON-looking body lazily, chunk by chunk, waiting for the socket to drain, so a 500 MB
 * answer never exists in the test's memory. Resolves with the bytes written when the stream ends or the client goes.
 * `stopAfter` is a safety valve: past it the server gives up, so a client that reads everything fails the test
 * quickly instead of exhausting the machine.
 */
export function streamHuge(
  res: ServerResponse,
  o: {status: number; totalBytes: number; declareLength: boolean; headers: Record<string, string>; stopAfter: number},
): Promise<number> {
  const chunk = Buffer.alloc(64 * 1024, 0x20) // spaces: whitespace inside a JSON value
  const headers: Record<string, string> = {'content-type': 'application/json', ...o.headers}
  if (o.declareLength) headers['content-length'] = String(o.totalBytes)
  res.writeHead(o.status, headers)
  let written = 0
  return new Promise((resolve) => {
    const done = () => resolve(written)
    res.on('close', done)
    const pump = () => {
      while (written < o.totalBytes) {
        if (res.destroyed) return done()
        if (written >= o.stopAfter) {
          res.destroy()
          return done()
        }
        const n = Math.min(chunk.length, o.totalBytes - written)
        written += n
        if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
          res.once('drain', pump)
          return
        }
      }
      res.end()
    }
    res.write('{"pad":"')
    pump()
  })
}
