import {readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {startEmulator, type EmulatorOptions, type RunningEmulator} from '../../../emulator/index.js'
import {AggregatorClient} from '../../../engine/providers/wechatpay/aggregator.js'
import {WechatPayClient, type WechatPayClientOptions} from '../../../engine/providers/wechatpay/client.js'
import {loadCredentialsFile, resolveAggregatorCredentials, type KeyMode} from '../../../engine/providers/wechatpay/credentials.js'
import {RateLimiterRegistry} from '../../../engine/providers/wechatpay/rate-limiter.js'
import {membercardBody as emulatorMembercardBody} from '../../emulator/bodies.js'

/** Emulators and clients started by a test file, closed together in afterAll/afterEach. */
export class Harness {
  private readonly emulators: RunningEmulator[] = []
  private readonly closers: {close(): Promise<void>}[] = []

  async emulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
    const emu = await startEmulator(options)
    this.emulators.push(emu)
    return emu
  }

  /**
   * A client built the way cardform builds one: from the emulator's credentials.json. Its own rate-limiter registry
   * keeps tests from sharing buckets; fast retries unless a test says otherwise.
   */
  client(
    emu: RunningEmulator,
    overrides: Partial<WechatPayClientOptions> = {},
    keyMode: KeyMode = 'public-key',
  ): WechatPayClient {
    const client = new WechatPayClient({
      ...loadCredentialsFile(emu.credentialsFile, {keyMode}),
      rateLimit: false,
      rateLimiters: new RateLimiterRegistry(),
      retry: {baseDelayMs: 5, maxDelayMs: 50},
      ...overrides,
    })
    this.closers.push(client)
    return client
  }

  aggregator(emu: RunningEmulator, token?: string): AggregatorClient {
    const creds = resolveAggregatorCredentials({credentials_file: emu.credentialsFile}, {baseDir: '/'})
    const client = new AggregatorClient({...creds, ...(token === undefined ? {} : {token}), retry: {baseDelayMs: 5, maxDelayMs: 50}})
    this.closers.push(client)
    return client
  }

  track<T extends {close(): Promise<void>}>(closer: T): T {
    this.closers.push(closer)
    return closer
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.closers.splice(0).map((c) => c.close()))
    await Promise.all(this.emulators.splice(0).map((e) => e.close()))
  }
}

export function seedFixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(fileURLToPath(new URL(`../../fixtures/seeds/${name}`, import.meta.url)), 'utf8')) as Record<
    string,
    unknown
  >
}

let counter = 0
export function uniqueId(prefix: string): string {
  return `${prefix}-${process.pid}-${Date.now()}-${++counter}`
}

/** A valid membercard-open create body (reference §5 required fields): the emulator tests' body, with a key unique here. */
export function membercardBody(over: Record<string, unknown> = {}): {out_request_no: string} & Record<string, unknown> {
  return emulatorMembercardBody({out_request_no: uniqueId('mco'), ...over}) as {out_request_no: string} & Record<string, unknown>
}

/** The brand create body printed in seed 002, with a fresh out_request_no. */
export function brandBody(over: Record<string, unknown> = {}): {out_request_no: string; brand_id: string} & Record<string, unknown> {
  return {...seedFixture('002-brand-create.request.json'), out_request_no: uniqueId('brand'), brand_id: '1004', ...over}
}

/** The aggregator (seed 000) create body composed from the seed's fields (test/fixtures/seeds/README.md). */
export function aggregatorBody(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {...seedFixture('000-aggregator-create.composed.json'), ...over}
}
