import {Command, Flags} from '@oclif/core'
import path from 'node:path'
import {startEmulator} from '../../emulator/index.js'

const probability = Flags.custom<number>({
  async parse(input) {
    const n = Number(input)
    if (!(n >= 0 && n <= 1)) throw new Error(`expected a probability between 0 and 1, got "${input}"`)
    return n
  },
})

const nonNegative = Flags.custom<number>({
  async parse(input) {
    const n = Number(input)
    if (!(n >= 0) || !Number.isFinite(n)) throw new Error(`expected a number >= 0, got "${input}"`)
    return n
  },
})

const reviewDelay = Flags.custom<number | 'manual'>({
  async parse(input) {
    if (input === 'manual') return 'manual'
    const n = Number(input)
    if (!(n >= 0) || !Number.isFinite(n)) throw new Error(`expected milliseconds >= 0 or "manual", got "${input}"`)
    return n
  },
})

export default class Emulator extends Command {
  static override summary = 'Run a local WeChat Pay API emulator for the member card APIs.'
  static override description =
    'Serves the membercard-open, brand partner, image upload and aggregator endpoints with real APIv3 signatures, in the foreground ' +
    'until interrupted. Prints the URL and the credentials file a client (cardform or any APIv3 client) points at.'

  static override examples = ['<%= config.bin %> emulator', '<%= config.bin %> emulator --port 8088 --data .emulator --latency 50', '<%= config.bin %> emulator --review-delay manual']

  static override flags = {
    port: Flags.integer({description: 'Port to listen on (0 = any free port).', default: 0, min: 0, max: 65535}),
    host: Flags.string({description: 'Address to listen on.', default: '127.0.0.1'}),
    data: Flags.directory({description: 'Keep credentials and cards in this folder across restarts (default: in memory).'}),
    latency: nonNegative({description: 'Added latency per request, in milliseconds.', default: 0}),
    'latency-jitter': nonNegative({description: 'Random ± jitter around --latency, in milliseconds.', default: 0}),
    'rate-limit': nonNegative({description: 'Requests per second per merchant before 429 RATELIMIT_EXCEEDED (0 = none).', default: 0}),
    'fail-rate': probability({description: 'Probability of 500 SYSTEM_ERROR before any change.', default: 0}),
    'drop-rate': probability({description: 'Probability of a connection reset after the change was applied.', default: 0}),
    'review-delay': reviewDelay({
      description:
        'Milliseconds a created or edited membercard-open card stays NOT_APPROVE before it is APPROVED (0 = at once); ' +
        '"manual": until approved or failed with POST /__admin/cards/{card_id}/review.',
      default: 0,
    }),
    seed: Flags.integer({description: 'Seed of the randomness, for reproducible runs.'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Emulator)
    const emu = await startEmulator({
      port: flags.port,
      host: flags.host,
      ...(flags.data === undefined ? {} : {dataDir: path.resolve(flags.data)}),
      latencyMs: flags.latency,
      latencyJitterMs: flags['latency-jitter'],
      rateLimitQps: flags['rate-limit'],
      failRate: flags['fail-rate'],
      dropRate: flags['drop-rate'],
      reviewDelayMs: flags['review-delay'],
      ...(flags.seed === undefined ? {} : {seed: flags.seed}),
    })
    // The keys stay in their files: only where they are is printed.
    this.log(`emulator listening on ${emu.url}`)
    this.log(`credentials: ${emu.credentialsFile}`)
    await new Promise<void>((resolve) => {
      const stop = () => {
        process.off('SIGINT', stop)
        process.off('SIGTERM', stop)
        resolve()
      }
      process.on('SIGINT', stop)
      process.on('SIGTERM', stop)
    })
    await emu.close()
    this.log('emulator stopped')
  }
}
