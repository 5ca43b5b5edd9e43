import {createPublicKey, generateKeyPairSync, type KeyObject} from 'node:crypto'
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'
import {parseAuthorization, responseMessage, signMessage, verifyMessage} from '../../../engine/providers/wechatpay/signing.js'

/**
 * A tiny APIv3 stand-in over loopback, for wire-level client tests where a test must script each answer exactly
 * (a 500 then a 200, a reset, a hang). It checks each request's signature on its own terms, building the string to
 * sign itself from reference §2 rather than through signing.ts's requestMessage, and signs what it answers.
 */

export const MCHID = '1900000001'
export const MERCHANT_SERIAL = '5A1B2C3D4E5F60718293A4B5C6D7E8F901234567'
export const PUB_KEY_ID = 'PUB_KEY_ID_0119000000012025010100000000000001'

export const merchantKeys = generateKeyPairSync('rsa', {modulusLength: 2048})
export const wechatpayKeys = generateKeyPairSync('rsa', {modulusLength: 2048})

export interface SeenRequest {
  method: string
  url: string
  headers: IncomingMessage['headers']
  body: Buffer
  /** undefined when the signature verified, else why not. */
  signatureProblem: string | undefined
  nonce: string | undefined
  timestamp: string | undefined
}

export interface Reply {
  status: number
  body?: string
  headers?: Record<string, string>
  /** Sign with this key and serial (default: the WeChat Pay public key pair). */
  signWith?: {key: KeyObject; serial: string}
  /** Leave out the signature headers. */
  unsigned?: boolean
  /** Reset the connection instead of answering. */
  reset?: boolean
  /** Never answer. */
  hang?: boolean
}

export interface ScriptedServer {
  url: string
  seen: SeenRequest[]
  close(): Promise<void>
}

export async function startScriptedServer(
  reply: (req: SeenRequest, index: number) => Reply,
  merchantPublicKey: KeyObject = createPublicKey(merchantKeys.privateKey),
): Promise<ScriptedServer> {
  const seen: SeenRequest[] = []
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      const auth = parseAuthorization(req.headers.authorization)
      let signatureProblem: string | undefined
      if (typeof auth === 'string') signatureProblem = auth
      else {
        // Reference §2, written out: METHOD\nURL\nTIMESTAMP\nNONCE\nBODY\n
        const message = `${req.method}\n${req.url}\n${auth.timestamp}\n${auth.nonce_str}\n${body.toString('utf8')}\n`
        if (!verifyMessage(message, auth.signature, merchantPublicKey)) signatureProblem = 'signature does not verify'
      }
      const entry: SeenRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body,
        signatureProblem,
        nonce: typeof auth === 'string' ? undefined : auth.nonce_str,
        timestamp: typeof auth === 'string' ? undefined : auth.timestamp,
      }
      seen.push(entry)
      const r = reply(entry, seen.length - 1)
      if (r.hang) return
      if (r.reset) {
        req.socket.resetAndDestroy()
        return
      }
      const text = r.body ?? ''
      const headers: Record<string, string> = {'request-id': `RID-${seen.length}`, ...r.headers}
      if (!r.unsigned) {
        const ts = String(Math.floor(Date.now() / 1000))
        const nonce = `N${seen.length}ONCE`
        const signer = r.signWith ?? {key: wechatpayKeys.privateKey, serial: PUB_KEY_ID}
        headers['wechatpay-timestamp'] = ts
        headers['wechatpay-nonce'] = nonce
        headers['wechatpay-serial'] = signer.serial
        headers['wechatpay-signature'] = signMessage(responseMessage(ts, nonce, text), signer.key)
      }
      if (text !== '') headers['content-type'] = 'application/json'
      res.writeHead(r.status, headers)
      res.end(text)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
