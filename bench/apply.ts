import {spawn} from 'node:child_process'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import os, {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {stringify} from 'yaml'
import {startEmulator} from '../emulator/index.js'
import {copyQuickstartImages, quickstartCards} from './quickstart-cards.js'
import type {Benchmark} from './run.js'

const SIZES = [500, 1000, 2000, 4000]
const EMBEDDED_SIZES = [1000, 2000]
const CARDS_PER_FILE = 200

/**
 * `cardform apply --auto-approve` creating N cards, each N in a fresh project and a fresh child process
 * (bench/apply-child.ts), so that its wall time, CPU time and peak memory are its own.
 *
 * Standalone runs: the emulator runs in this process, in memory, at 0 ms latency, rate limit off (cardform.yaml's
 * rate_limit is 100,000/s). In the same child, after the apply, the same API calls go through the bare gateway with
 * fresh idempotency keys: apply's CPU minus that is what apply costs outside the network (specs, plan, state).
 * Apply is linear when the wall time of 4,000 cards is about twice that of 2,000 (goal: at most 2.3x).
 *
 * Embedded runs: `provider.endpoint: embedded`, so the emulator runs inside the child and persists its cards under
 * the project's .cardform/emulator (its append-only log): the figures include the emulator's own work.
 */
export const applyBenchmark: Benchmark = {
  name: 'apply',
  description: 'cardform apply creating 500..4,000 cards (in-memory emulator), and 1,000/2,000 with the embedded persisting one; args [sizes] [parallelism] [embedded sizes|none]',
  async run(args) {
    const sizes = args[0] ? args[0].split(',').map(Number) : SIZES
    const parallelism = Number(args[1] ?? 10)
    const embeddedSizes = args[2] === 'none' ? [] : args[2] ? args[2].split(',').map(Number) : EMBEDDED_SIZES
    const out = (s: string) => process.stdout.write(s)
    out(`apply benchmark: parallelism ${parallelism}, emulator at 0 ms latency, rate limit off; load average ${loadavg()}\n`)
    out('standalone in-memory emulator (this process), apply in a fresh child process:\n')
    out(`  ${'cards'.padStart(6)} ${'wall'.padStart(9)} ${'ms/card'.padStart(8)} ${'CPU/card'.padStart(9)} ${'bare CPU/card'.padStart(14)} ${'outside network'.padStart(16)} ${'state writes'.padStart(13)} ${'peak RSS'.padStart(9)}\n`)
    const standalone = new Map<number, ChildResult>()
    for (const n of sizes) {
      const emulator = await startEmulator({latencyMs: 0})
      const dir = mkdtempSync(path.join(tmpdir(), 'cardform-bench-apply-'))
      try {
        writeProject(dir, n, {url: emulator.url, credentialsFile: emulator.credentialsFile})
        const r = check(await child([dir, String(parallelism), 'bare']), n)
        standalone.set(n, r)
        const outside = (r.cpu_ms - r.bare_cpu_ms!) / n
        out(
          `  ${String(n).padStart(6)} ${seconds(r.wall_ms).padStart(9)} ${(r.wall_ms / n).toFixed(2).padStart(8)} ` +
            `${ms(r.cpu_ms / n).padStart(9)} ${ms(r.bare_cpu_ms! / n).padStart(14)} ${ms(outside).padStart(16)} ` +
            `${String(r.serial).padStart(13)} ${`${(r.max_rss_kb / 1024).toFixed(0)} MiB`.padStart(9)}\n`,
        )
      } finally {
        await emulator.close()
        rmSync(dir, {recursive: true, force: true})
      }
    }
    out(ratios(standalone, 'outside network: CPU of the apply minus CPU of the same calls through the bare gateway, per card (goal <= 3 ms)'))
    if (embeddedSizes.length === 0) return
    out('embedded emulator (endpoint: embedded, in the child, persisting its cards under .cardform/emulator):\n')
    const embedded = new Map<number, ChildResult>()
    for (const n of embeddedSizes) {
      const dir = mkdtempSync(path.join(tmpdir(), 'cardform-bench-apply-'))
      try {
        writeProject(dir, n, 'embedded')
        const r = check(await child([dir, String(parallelism), 'no-bare']), n)
        embedded.set(n, r)
        out(`  ${String(n).padStart(6)} ${seconds(r.wall_ms).padStart(9)} ${(r.wall_ms / n).toFixed(2).padStart(8)} ${ms(r.cpu_ms / n).padStart(9)}  (CPU includes the emulator's)\n`)
      } finally {
        rmSync(dir, {recursive: true, force: true})
      }
    }
    out(ratios(embedded))
    out(`load average at the end: ${loadavg()}\n`)
  },
}

function ratios(results: ReadonlyMap<number, ChildResult>, note?: string): string {
  const ns = [...results.keys()].sort((a, b) => a - b)
  const lines: string[] = []
  for (let i = 1; i < ns.length; i++) {
    const [a, b] = [ns[i - 1]!, ns[i]!]
    const [ra, rb] = [results.get(a)!, results.get(b)!]
    lines.push(`  ${b}/${a} cards: wall ${(rb.wall_ms / ra.wall_ms).toFixed(2)}x, CPU ${(rb.cpu_ms / ra.cpu_ms).toFixed(2)}x (linear: ${(b / a).toFixed(2)}x)`)
  }
  if (note) lines.push(`  ${note}`)
  return lines.map((l) => `${l}\n`).join('')
}

function check(r: ChildResult, n: number): ChildResult {
  if (r.failed !== 0 || r.done !== n) throw new Error(`apply of ${n} cards: ${r.done} done, ${r.failed} failed`)
  return r
}

const seconds = (millis: number) => `${(millis / 1000).toFixed(2)} s`
const ms = (millis: number) => `${millis.toFixed(2)} ms`
const loadavg = () => os.loadavg().map((l) => l.toFixed(2)).join(', ')

interface ChildResult {
  wall_ms: number
  cpu_ms: number
  max_rss_kb: number
  failed: number
  done: number
  serial: number
  calls: number
  bare_wall_ms?: number
  bare_cpu_ms?: number
}

function child(args: string[]): Promise<ChildResult> {
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'apply-child.js')
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [script, ...args], {stdio: ['ignore', 'pipe', 'inherit']})
    let text = ''
    c.stdout.on('data', (b: Buffer) => (text += b.toString()))
    c.on('error', reject)
    c.on('close', (code) => (code === 0 ? resolve(JSON.parse(text) as ChildResult) : reject(new Error(`apply-child exited ${code}`))))
  })
}

/** N cards cycling through the quickstart's templates (one MemberCard, two BrandMemberCards), each titled apart. */
function writeProject(dir: string, count: number, endpoint: {url: string; credentialsFile: string} | 'embedded'): void {
  const provider =
    endpoint === 'embedded'
      ? 'provider:\n  endpoint: embedded\n  rate_limit: 100000\n'
      : `provider:\n  endpoint: ${endpoint.url}\n  credentials_file: ${endpoint.credentialsFile}\n  rate_limit: 100000\n`
  writeFileSync(path.join(dir, 'cardform.yaml'), `cards: cards\n${provider}`)
  const templates = quickstartCards(['bookstore-reader.yaml', 'brand-cards.yaml'])
  mkdirSync(path.join(dir, 'cards'))
  copyQuickstartImages(path.join(dir, 'cards'))
  // A card file may not exceed 1 MiB: 200 cards to a file.
  for (let file = 0; file * CARDS_PER_FILE < count; file++) {
    const docs: string[] = []
    for (let i = file * CARDS_PER_FILE; i < Math.min(count, (file + 1) * CARDS_PER_FILE); i++) {
      const card = structuredClone(templates[i % templates.length]!)
      card.metadata.name = `${card.metadata.name}-${i}`
      for (const key of ['title', 'card_title']) if (typeof card.spec[key] === 'string') card.spec[key] = `卡${i}`
      docs.push(stringify({apiVersion: 'cardform/v1', ...card}))
    }
    writeFileSync(path.join(dir, 'cards', `cards-${String(file).padStart(3, '0')}.yaml`), docs.join('---\n'))
  }
}
