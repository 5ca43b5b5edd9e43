import {spawn} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {cpus, loadavg, tmpdir} from 'node:os'
import path from 'node:path'
import {performance} from 'node:perf_hooks'
import {fileURLToPath, pathToFileURL} from 'node:url'
import {stringify} from 'yaml'
import {startEmulator, type RunningEmulator} from '../emulator/index.js'
import {runApply} from '../engine/operations.js'
import {packageRoot} from '../engine/paths.js'
import {openWorkspace} from '../engine/workspace.js'
import {copyQuickstartImages, quickstartCards} from './quickstart-cards.js'
import type {Benchmark} from './run.js'

const CARDS = 10_000
/** The issue's goal: a plan of 10,000 cards in state within 400 MB (10^6 bytes, the stricter reading) of peak RSS. */
const GOAL_BYTES = 400e6

/**
 * The memory of `cardform plan` with 10,000 cards in state: the real CLI (`node bin/run.js plan`) in a fresh process,
 * its peak RSS (getrusage, written at exit by bench/rss-probe.ts) against the 400 MB goal, and its wall time. The
 * emulator runs in this process at 0 ms latency, so the child's memory is its own.
 *
 * Set-up (not measured): the cards are created with one apply, in this process. Measured: the plan, which reads every
 * card from the emulator (list pages or GETs; the requests it served are shown), diffs and prints; once with the human
 * output and once with --json.
 */
export const planMemoryBenchmark: Benchmark = {
  name: 'plan-memory',
  description: `cardform plan of ${CARDS.toLocaleString('en')} cards in state in a fresh process: peak RSS against the 400 MB goal, wall time; args [cards] [parallelism]`,
  async run(args) {
    const count = Number(args[0] ?? CARDS)
    const parallelism = Number(args[1] ?? 10)
    const dir = mkdtempSync(path.join(tmpdir(), 'cardform-bench-plan-memory-'))
    const emulator = await startEmulator({latencyMs: 0})
    try {
      writeProject(dir, count, emulator)
      const t0 = performance.now()
      await seed(dir)
      process.stderr.write(`set-up: ${count} cards created and in state in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`)

      const rows: string[] = []
      for (const variant of [[], ['--json']]) {
        const before = emulator.admin.stats().requests
        const r = await measure(dir, ['plan', '--parallelism', String(parallelism), ...variant])
        const served = emulator.admin.stats().requests - before
        const changes = variant.length ? (JSON.parse(r.stdout) as {changes: Array<{action: string}>}).changes.filter((c) => c.action !== 'no-op').length : r.stdout.includes('No changes') ? 0 : -1
        if (r.code !== 0 || changes !== 0) throw new Error(`plan ${variant.join(' ')} exited ${r.code} with ${changes} changes: ${r.stderr.slice(0, 2000)}`)
        const rss = r.probe.max_rss_kb * 1024
        rows.push(
          `  ${`cardform plan ${variant.join(' ')}`.trimEnd().padEnd(22)} peak RSS ${mib(rss)} MiB = ${(rss / 1e6).toFixed(0)} MB ` +
            `(${((rss / GOAL_BYTES) * 100).toFixed(0)}% of the goal, ${rss <= GOAL_BYTES ? 'met' : 'NOT met'}); ` +
            `wall ${(r.wall_ms / 1000).toFixed(2)} s, CPU ${((r.probe.cpu_user_ms + r.probe.cpu_system_ms) / 1000).toFixed(2)} s; ` +
            `peak heap used ${mib(r.probe.sampled_peaks.heap_used)} MiB, external ${mib(r.probe.sampled_peaks.external)} MiB; ` +
            `${served} requests served; ${(r.stdout.length / 1024).toFixed(0)} KiB of output\n`,
        )
      }
      const stateBytes = readFileSync(path.join(dir, '.cardform/state.json')).length
      if (existsSync(path.join(dir, '.cardform/state.json.journal'))) throw new Error('the set-up apply left a journal: the plan would not read one whole state.json')
      process.stdout.write(
        `plan-memory benchmark: ${count} cards in state (state.json ${mib(stateBytes)} MiB), parallelism ${parallelism}, ` +
          `emulator at 0 ms latency; goal peak RSS <= 400 MB\n` +
          rows.join('') +
          `  load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} on ${cpus().length} CPUs\n`,
      )
    } finally {
      await emulator.close()
      rmSync(dir, {recursive: true, force: true})
    }
  },
}

function mib(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1)
}

/** A project of `count` cards: the quickstart's four readable cards (two kinds, two API families) in turn. */
function writeProject(dir: string, count: number, emulator: RunningEmulator): void {
  writeFileSync(
    path.join(dir, 'cardform.yaml'),
    `cards: cards\nprovider:\n  endpoint: ${emulator.url}\n  credentials_file: ${emulator.credentialsFile}\n  rate_limit: 100000\n`,
  )
  const templates = quickstartCards(['bookstore-reader.yaml', 'brand-cards.yaml', 'coffee-member.yaml'])
  mkdirSync(path.join(dir, 'cards'))
  copyQuickstartImages(path.join(dir, 'cards'))
  // Files of 200 documents: a card file may not exceed 1 MiB.
  for (let start = 0; start < count; start += 200) {
    const docs: string[] = []
    for (let i = start; i < Math.min(count, start + 200); i++) {
      const card = structuredClone(templates[i % templates.length]!)
      card.metadata.name = `${card.metadata.name}-${i}`
      for (const key of ['title', 'card_title']) if (typeof card.spec[key] === 'string') card.spec[key] = `卡${i}`
      docs.push(stringify({apiVersion: 'cardform/v1', ...card}))
    }
    writeFileSync(path.join(dir, 'cards', `cards-${String(start / 200).padStart(3, '0')}.yaml`), docs.join('---\n'))
  }
}

/** Create every card of the project with one apply (in this process, beside the emulator). */
async function seed(dir: string): Promise<void> {
  const {workspace, diagnostics} = await openWorkspace(dir)
  if (!workspace) throw new Error(`project has errors: ${JSON.stringify(diagnostics.slice(0, 3))}`)
  try {
    const run = await runApply(workspace, {
      autoApprove: true, allowDestroy: false, allowIrreversible: true, parallelism: 32, failFast: true, lockTimeoutMs: 0, refresh: false,
    })
    const failed = run.result?.outcomes.find((o) => o.status !== 'done')
    if (run.refused.length || !run.result || failed) {
      throw new Error(`set-up apply: ${JSON.stringify(run.refused[0] ?? failed ?? 'nothing applied')}`)
    }
  } finally {
    await workspace.close()
  }
}

interface Probe {
  max_rss_kb: number
  sampled_peaks: {rss: number; heap_used: number; heap_total: number; external: number; array_buffers: number}
  cpu_user_ms: number
  cpu_system_ms: number
}

/** Run the built CLI with the probe preloaded; stdout is collected (as a pipe would), so no progress is drawn. */
function measure(dir: string, args: string[]): Promise<{code: number | null; stdout: string; stderr: string; wall_ms: number; probe: Probe}> {
  const probeFile = path.join(dir, 'probe.json')
  rmSync(probeFile, {force: true})
  const probe = pathToFileURL(path.join(path.dirname(fileURLToPath(import.meta.url)), 'rss-probe.js')).href
  const started = performance.now()
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', probe, path.join(packageRoot, 'bin/run.js'), ...args, '-C', dir], {
      env: {...process.env, CARDFORM_BENCH_PROBE: probeFile, NO_COLOR: '1'},
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const out: Buffer[] = []
    let stderr = ''
    child.stdout.on('data', (b: Buffer) => out.push(b))
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()))
    child.on('error', reject)
    child.on('close', (code) => {
      const wall = performance.now() - started
      try {
        resolve({code, stdout: Buffer.concat(out).toString(), stderr, wall_ms: wall, probe: JSON.parse(readFileSync(probeFile, 'utf8')) as Probe})
      } catch (e) {
        reject(new Error(`no probe output (exit ${code}): ${(e as Error).message}; ${stderr.slice(0, 2000)}`))
      }
    })
  })
}
