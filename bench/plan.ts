import {spawn} from 'node:child_process'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {stringify} from 'yaml'
import {startEmulator} from '../emulator/index.js'
import {copyQuickstartImages, quickstartCards} from './quickstart-cards.js'
import type {Benchmark} from './run.js'

const CARDS = 1000
/** Cards per list page (both families' largest limit, reference §5). */
const PAGE = 20

/**
 * `cardform plan` of 1,000 cards against the emulator: the emulator runs in this process, the plan in a child process
 * (bench/plan-child.ts) so that its wall time, CPU time and peak memory are its own.
 *
 * Set-up (not measured): the cards are created with one apply. Measured: the plan end to end (load specs, refresh by
 * list pages, diff, render). Compared with two bounds no plan can beat, since it must read every card:
 * - the list bound: ⌈cards of the family / 20⌉ list pages per family, the families in parallel;
 * - the GET bound: one GET per card, what refresh did before it read by list.
 * Without a rate limit each bound is measured: the bare refresh (that strategy only, nothing else) through the same
 * client at the same concurrency, on warm connections, in a process of its own after the plan's. With one (requests/s per API family, as cardform.yaml's
 * provider.rate_limit) each is computed: (the largest family's requests - 1) / rate, since the bucket lets its first
 * call through at once, plus one round trip of emulator latency.
 */
export const planBenchmark: Benchmark = {
  name: 'plan',
  description: `cardform plan of ${CARDS} cards against the emulator, measured against the list-page and GET bounds; args [cards] [parallelism] [rate/s|off] [latency ms]`,
  async run(args) {
    const count = Number(args[0] ?? CARDS)
    const parallelism = Number(args[1] ?? 10)
    const rate = args[2] === undefined || args[2] === 'off' ? undefined : Number(args[2])
    const latencyMs = Number(args[3] ?? 0)
    const dir = mkdtempSync(path.join(tmpdir(), 'cardform-bench-plan-'))
    const emulator = await startEmulator({dataDir: path.join(dir, 'emulator'), latencyMs})
    try {
      const perKind = writeProject(dir, count, emulator.url, emulator.credentialsFile, 100_000)
      const setup = await child<{failed: number}>(['apply', dir, String(parallelism)])
      if (setup.failed !== 0) throw new Error(`set-up apply failed for ${setup.failed} cards`)
      if (rate !== undefined) writeProject(dir, count, emulator.url, emulator.credentialsFile, rate, false)
      const before = emulator.admin.stats().by_route
      const r = await child<PlanResult>(['plan', dir, String(parallelism)])
      const requests = Object.entries(emulator.admin.stats().by_route)
        .map(([route, n]) => [route, n - (before[route] ?? 0)] as const)
        .filter(([, n]) => n > 0)
      const measured = rate === undefined ? await child<{get_ms: number; list_ms: number}>(['bounds', dir, String(parallelism)]) : undefined
      const largest = (perCard: (n: number) => number) => Math.max(...[...perKind.values()].map(perCard))
      const computed = (requestsOf: (n: number) => number) => ((largest(requestsOf) - 1) / rate!) * 1000 + latencyMs
      const listBound = measured ? measured.list_ms : computed((n) => Math.ceil(n / PAGE))
      const getBound = measured ? measured.get_ms : computed((n) => n)
      const kinds = [...perKind].map(([kind, n]) => `${n} ${kind}`).join(', ')
      process.stdout.write(
        `plan benchmark: ${count} cards (${kinds}), parallelism ${parallelism}, emulator at ${latencyMs} ms latency, ` +
          `${rate === undefined ? 'rate limit off' : `rate limit ${rate}/s per API family`}\n` +
          `  bounds ${rate === undefined ? 'measured (bare refresh, warm connections)' : 'computed from the rate'}:\n` +
          row('list bound: every listing, page by page', listBound, listBound, getBound) +
          row('GET bound: one GET per card', getBound, listBound, getBound) +
          row('load specs and state', r.load_ms, listBound, getBound) +
          row('plan: refresh by list + diff', r.plan_ms, listBound, getBound) +
          row('render the human plan', r.render_ms, listBound, getBound) +
          row('end to end (in a fresh process)', r.wall_ms, listBound, getBound) +
          `  CPU ${r.cpu_user_ms.toFixed(0)} ms user + ${r.cpu_system_ms.toFixed(0)} ms system; peak RSS ${(r.max_rss_kb / 1024).toFixed(1)} MiB; ` +
          `${r.changes} changes and ${r.errors} errors planned (expected 0)\n` +
          `  requests of the plan: ${requests.map(([route, n]) => `${route} ${n}`).join('; ')}\n`,
      )
    } finally {
      await emulator.close()
      rmSync(dir, {recursive: true, force: true})
    }
  },
}

function row(label: string, ms: number, listBound: number, getBound: number): string {
  return `  ${label.padEnd(42)} ${ms.toFixed(0).padStart(7)} ms  ${(ms / listBound).toFixed(2).padStart(6)}x list bound  ${(ms / getBound).toFixed(3)}x GET bound\n`
}

interface PlanResult {
  load_ms: number
  plan_ms: number
  render_ms: number
  wall_ms: number
  cpu_user_ms: number
  cpu_system_ms: number
  max_rss_kb: number
  changes: number
  errors: number
}

function child<T>(args: string[]): Promise<T> {
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'plan-child.js')
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [script, ...args], {stdio: ['ignore', 'pipe', 'inherit']})
    let out = ''
    c.stdout.on('data', (b: Buffer) => (out += b.toString()))
    c.on('error', reject)
    c.on('close', (code) => (code === 0 ? resolve(JSON.parse(out) as T) : reject(new Error(`plan-child exited ${code}`))))
  })
}

/** Writes the project; returns how many cards of each kind it has. */
function writeProject(dir: string, count: number, url: string, credentialsFile: string, rate: number, cards = true): Map<string, number> {
  writeFileSync(
    path.join(dir, 'cardform.yaml'),
    `cards: cards\nprovider:\n  endpoint: ${url}\n  credentials_file: ${credentialsFile}\n  rate_limit: ${rate}\n`,
  )
  const perKind = new Map<string, number>()
  if (!cards) return perKind
  const templates = quickstartCards(['bookstore-reader.yaml', 'brand-cards.yaml'])
  mkdirSync(path.join(dir, 'cards'))
  copyQuickstartImages(path.join(dir, 'cards'))
  const docs: string[] = []
  for (let i = 0; i < count; i++) {
    const card = structuredClone(templates[i % templates.length]!)
    card.metadata.name = `${card.metadata.name}-${i}`
    for (const key of ['title', 'card_title']) if (typeof card.spec[key] === 'string') card.spec[key] = `卡${i}`
    docs.push(stringify({apiVersion: 'cardform/v1', ...card}))
    perKind.set(card.kind, (perKind.get(card.kind) ?? 0) + 1)
  }
  writeFileSync(path.join(dir, 'cards', 'cards.yaml'), docs.join('---\n'))
  return perKind
}
