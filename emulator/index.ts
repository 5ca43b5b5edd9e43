import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {mkdir, mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {loadOrCreateKeys, type EmulatorCredentials, type EmulatorKeys} from './credentials.js'
import {CardStore} from './store.js'
import {createRandom} from './random.js'
import {EmulatorServer, type EmulatorStats} from './server.js'
import {adminCardView, adminMediaView, mutateCard, reviewCard, type AdminCardView, type AdminMediaView} from './admin.js'
import type {ReviewDelay, ReviewVerdict} from './review.js'

export type {EmulatorCredentials} from './credentials.js'
export type {EmulatorStats} from './server.js'
export type {AdminCardView, AdminMediaView} from './admin.js'
export type {ReviewDelay, ReviewVerdict} from './review.js'

/** A local WeChat Pay APIv3 emulator for the member card APIs. Its behaviour spec is emulator/EMULATOR.md. */
export interface EmulatorOptions {
  /** 0 = an ephemeral port (default). */
  port?: number
  /** Default 127.0.0.1. */
  host?: string
  /** Persist credentials and cards here; without it, cards live in memory and keys go to a temp dir removed on close. */
  dataDir?: string
  latencyMs?: number
  latencyJitterMs?: number
  /** Requests per second per mchid, beyond which 429 RATELIMIT_EXCEEDED; 0 or absent = unlimited. */
  rateLimitQps?: number
  /** Probability (0..1) of 500 SYSTEM_ERROR before any change. */
  failRate?: number
  /** Probability (0..1) of a connection reset after the change was applied. */
  dropRate?: number
  /** Seed of the randomness (ids, knobs), for reproducible tests. */
  seed?: number
  /** Milliseconds since the epoch; default Date.now. */
  clock?: () => number
  /**
   * How long a created or edited membercard-open template stays NOT_APPROVE before it is APPROVED: 0 (default) = at
   * once; `manual` = until `admin.review()` decides.
   */
  reviewDelayMs?: ReviewDelay
}

export interface EmulatorAdmin {
  /** Every card of every family, with owner, rights and fields GET hides. */
  listCards(): AdminCardView[]
  getCard(cardId: string): AdminCardView | undefined
  /** Change a card behind the client's back (rules skipped, update_time bumped); see admin.ts. */
  mutateCard(cardId: string, patch: Record<string, unknown>): Promise<AdminCardView>
  /** Every uploaded image: sha256, format, size and URL. */
  listMedia(): AdminMediaView[]
  stats(): EmulatorStats
  /** Forget every card and image, and reset the stats. */
  reset(): Promise<void>
  /** Decide a membercard-open card's review: approve it, or fail it with a reason (kept for the admin only). */
  review(cardId: string, verdict: ReviewVerdict): Promise<AdminCardView>
}

export interface RunningEmulator {
  /** `http://host:port`, no trailing slash. */
  url: string
  credentials: EmulatorCredentials
  /** Absolute path of credentials.json (key file names inside are relative to its folder). */
  credentialsFile: string
  close(): Promise<void>
  admin: EmulatorAdmin
}

function checkRate(name: string, value: number | undefined): number {
  const v = value ?? 0
  if (!(v >= 0 && v <= 1)) throw new RangeError(`emulator option ${name}: expected a probability between 0 and 1, got ${value}`)
  return v
}

function checkNonNegative(name: string, value: number | undefined): number {
  const v = value ?? 0
  if (!(v >= 0) || !Number.isFinite(v)) throw new RangeError(`emulator option ${name}: expected a number >= 0, got ${value}`)
  return v
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const knobs = {
    latencyMs: checkNonNegative('latencyMs', options.latencyMs),
    latencyJitterMs: checkNonNegative('latencyJitterMs', options.latencyJitterMs),
    rateLimitQps: checkNonNegative('rateLimitQps', options.rateLimitQps),
    failRate: checkRate('failRate', options.failRate),
    dropRate: checkRate('dropRate', options.dropRate),
    reviewDelay: options.reviewDelayMs === 'manual' ? ('manual' as const) : checkNonNegative('reviewDelayMs', options.reviewDelayMs),
  }
  const clock = options.clock ?? Date.now
  const host = options.host ?? '127.0.0.1'
  const tempDir = options.dataDir === undefined ? await mkdtemp(path.join(tmpdir(), 'cardform-emulator-')) : undefined
  const dir = options.dataDir ?? tempDir!
  await mkdir(dir, {recursive: true})

  let app: EmulatorServer | undefined
  const server: Server = createServer((req, res) => {
    if (!app) {
      res.writeHead(503).end()
      return
    }
    app.handle(req, res).catch((error: unknown) => {
      // A bug of ours, not an API answer: a plain 500 without a body the client could mistake for the API's.
      if (!res.headersSent) res.writeHead(500, {'Content-Type': 'text/plain'})
      res.end(`emulator internal error: ${(error as Error).message}`)
    })
  })
  server.keepAliveTimeout = 30_000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const {port} = server.address() as AddressInfo
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`

  let store: CardStore
  let keys: EmulatorKeys
  try {
    keys = await loadOrCreateKeys(dir, url, options.seed, clock())
    store = new CardStore(options.dataDir)
    app = new EmulatorServer(keys, store, createRandom(options.seed), knobs, clock)
  } catch (error) {
    server.close()
    if (tempDir) await rm(tempDir, {recursive: true, force: true})
    throw error
  }
  const running = app

  let closed: Promise<void> | undefined
  return {
    url,
    credentials: keys.credentials,
    credentialsFile: keys.credentialsFile,
    close() {
      closed ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve())
          server.closeAllConnections()
        })
        await store.close()
        if (tempDir) await rm(tempDir, {recursive: true, force: true})
      })()
      return closed
    },
    admin: {
      listCards: () => store.all().map((r) => adminCardView(r, clock())),
      getCard: (cardId) => {
        const r = store.get(cardId)
        return r ? adminCardView(r, clock()) : undefined
      },
      async mutateCard(cardId, patch) {
        const view = mutateCard(store, cardId, patch, clock())
        await store.flush()
        return view
      },
      listMedia: () => store.allMedia().map((r) => adminMediaView(r, url)),
      stats: () => structuredClone(running.stats),
      async reset() {
        running.reset()
        await store.flush()
      },
      async review(cardId, verdict) {
        const view = reviewCard(store, cardId, verdict, clock())
        await store.flush()
        return view
      },
    },
  }
}
