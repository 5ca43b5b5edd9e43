import {createServer, request as httpRequest, type IncomingHttpHeaders, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'

/**
 * A loopback HTTP proxy between the client and the emulator, for faults the emulator does not make on demand:
 * changing bytes of a signed response, or resetting the connection after the emulator has answered (so the change
 * is applied server-side and the client never hears of it), or dropping a request before the server sees it. It
 * forwards requests untouched.
 */

export interface ProxiedResponse {
  status: number
  headers: IncomingHttpHeaders
  body: Buffer
}

export type ResponseHook = (req: {method: string; url: string; index: number}, res: ProxiedResponse) => ProxiedResponse | 'reset'

/** Called as each request has arrived, before it is forwarded: 'reset' drops it unforwarded (the server never sees it). */
export type RequestHook = (req: {method: string; url: string; index: number}) => 'forward' | 'reset'

export interface LoopbackProxy {
  url: string
  /** Requests forwarded so far. */
  count(): number
  /** Forward from now on to `target` (a restarted server on another port). */
  retarget(target: string): void
  close(): Promise<void>
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'host'])

export async function startProxy(target: string, hook: ResponseHook = (_req, res) => res, onRequest: RequestHook = () => 'forward'): Promise<LoopbackProxy> {
  let upstream = new URL(target)
  let index = 0
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      const i = index++
      if (onRequest({method: req.method ?? '', url: req.url ?? '', index: i}) === 'reset') {
        req.socket.resetAndDestroy()
        return
      }
      const headers: Record<string, string | string[]> = {}
      for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v
      headers['content-length'] = String(body.length)
      const out = httpRequest(
        {host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers},
        (up) => {
          const parts: Buffer[] = []
          up.on('data', (c: Buffer) => parts.push(c))
          up.on('end', () => {
            const result = hook(
              {method: req.method ?? '', url: req.url ?? '', index: i},
              {status: up.statusCode ?? 502, headers: up.headers, body: Buffer.concat(parts)},
            )
            if (result === 'reset') {
              req.socket.resetAndDestroy()
              return
            }
            const h: Record<string, string | string[]> = {}
            for (const [k, v] of Object.entries(result.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) h[k] = v
            h['content-length'] = String(result.body.length)
            res.writeHead(result.status, h)
            res.end(result.body)
          })
        },
      )
      out.on('error', () => req.socket.destroy())
      out.end(body)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    count: () => index,
    retarget: (to) => void (upstream = new URL(to)),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
