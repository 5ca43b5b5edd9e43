import {spawn} from 'node:child_process'
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseAllDocuments, stringify} from 'yaml'
import {startEmulator} from '../emulator/index.js'
import {packageRoot} from '../engine/paths.js'
import type {Benchmark} from './run.js'

const CARDS = 1000

/**
 * `cardform plan` of 1,000 cards against the emulator at 0 ms latency: the emulator runs in this process, the
 * plan in a child process (bench/plan-child.ts) so that its wall time, CPU time and peak memory are its own.
 *
 * Set-up (not measured): the cards are created with one apply. Measured: the plan end to end (load specs, refresh
 * every card with GET at --parallelism, diff, render), and, in the same child, an ideal bound: the same GETs through
 * the same client at the same concurrency and nothing else (on warm connections), which no plan can beat since it
 * must read every card.
 */
export const planBenchmark: Benchmark = {
  name: 'plan',
  description: `cardform plan of ${CARDS} cards against the emulator (0 ms latency): wall, CPU, peak memory; args [cards] [parallelism] [rate/s]`,
  async run(args) {
    const count = Number(args[0] ?? CARDS)
    const parallelism = Number(args[1] ?? 10)
    // A rate limit (requests/s, as cardform.yaml's provider.rate_limit) shows refresh under the API's pacing. Each API
    // family has its own bucket, so the bound is then also (largest family's card count - 1) / rate: the bucket lets
    // its first call through at once.
    const rate = args[2] === undefined ? undefined : Number(args[2])
    const dir = mkdtempSync(path.join(tmpdir(), 'cardform-bench-plan-'))
    const emulator = await startEmulator({dataDir: path.join(dir, 'emulator'), latencyMs: 0})
    try {
      const perKind = writeProject(dir, count, emulator.url, emulator.credentialsFile, 100_000)
      const setup = await child(['apply', dir, String(parallelism)])
      if (setup.failed !== 0) throw new Error(`set-up apply failed for ${setup.failed} cards`)
      if (rate !== undefined) writeProject(dir, count, emulator.url, emulator.credentialsFile, rate, false)
      const r = await child(['plan', dir, String(parallelism)])
      const largest = Math.max(...perKind.values())
      const ideal = Math.max(r.ideal_ms, rate === undefined ? 0 : ((largest - 1) / rate) * 1000)
      process.stdout.write(
        `plan benchmark: ${count} cards, parallelism ${parallelism}, emulator at 0 ms latency, ` +
          `${rate === undefined ? 'rate limit off' : `rate limit ${rate}/s`}\n` +
          row('ideal bound: GET every card, bare client', ideal, ideal) +
          row('load specs and state', r.load_ms, ideal) +
          row('plan: refresh every card + diff', r.plan_ms, ideal) +
          row('render the human plan', r.render_ms, ideal) +
          row('end to end (in a fresh process)', r.wall_ms, ideal) +
          `  CPU ${r.cpu_user_ms.toFixed(0)} ms user + ${r.cpu_system_ms.toFixed(0)} ms system; peak RSS ${(r.max_rss_kb / 1024).toFixed(1)} MiB; ` +
          `${r.changes} changes planned (expected 0)\n`,
      )
    } finally {
      await emulator.close()
      rmSync(dir, {recursive: true, force: true})
    }
  },
}

function row(label: string, ms: number, ideal: number): string {
  return `  ${label.padEnd(42)} ${ms.toFixed(0).padStart(6)} ms  ${(ms / ideal).toFixed(2)}x ideal\n`
}

interface ChildResult {
  load_ms: number
  plan_ms: number
  render_ms: number
  wall_ms: number
  ideal_ms: number
  cpu_user_ms: number
  cpu_system_ms: number
  max_rss_kb: number
  changes: number
  failed: number
}

function child(args: string[]): Promise<ChildResult> {
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'plan-child.js')
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [script, ...args], {stdio: ['ignore', 'pipe', 'inherit']})
    let out = ''
    c.stdout.on('data', (b: Buffer) => (out += b.toString()))
    c.on('error', reject)
    c.on('close', (code) => (code === 0 ? resolve(JSON.parse(out) as ChildResult) : reject(new Error(`plan-child exited ${code}`))))
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
  const quickstart = path.join(packageRoot, 'examples/quickstart/cards')
  const templates = ['bookstore-reader.yaml', 'brand-cards.yaml']
    .flatMap((f) => parseAllDocuments(readFileSync(path.join(quickstart, f), 'utf8')))
    .map((d) => d.toJS() as {kind: string; metadata: {name: string}; spec: Record<string, unknown>})
  mkdirSync(path.join(dir, 'cards'))
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
