import {rmSync} from 'node:fs'
import {buildCase, HOSTILE_CASES} from '../test/reliability/hostile-inputs.js'
import {runKillAnywhere} from '../test/reliability/kill-anywhere.js'
import {runMeasured} from '../test/reliability/measure.js'

/**
 * `npm run soak`: issue 11's long experiments, outside the test suite. Exits 1 when one does not survive.
 *
 * - Experiment 6 in full: every hostile input of test/reliability/hostile-inputs.ts (the ones `npm test` runs and the
 *   slow ones it does not) goes through `cardform validate` in a process of its own, measured with
 *   `/usr/bin/time -v`; prints one row per input and the tally. An input survives when validate exits 0 or 1 (never a
 *   crash), reports every diagnostic the case expects, and peaks at no more than 200 MB.
 * - Experiment 1, kill anywhere (test/reliability/kill-anywhere.ts), with more kills than `npm test` makes: two rounds
 *   of every phase's moments for each of two seeds; prints each phase and the tally.
 *
 * `npm run soak -- kill-anywhere` runs only the second; `npm run soak -- NAME…` only the hostile inputs named.
 */
const RSS_LIMIT_MB = 200
const KILL_SEEDS = [101, 202]
const KILL_ROUNDS = 2

const args = process.argv.slice(2)
const killOnly = args.length === 1 && args[0] === 'kill-anywhere'
let ok = true
if (!killOnly) ok = hostileInputs(args) && ok
if (killOnly || args.length === 0) ok = (await killAnywhere()) && ok
process.exitCode = ok ? 0 : 1

function hostileInputs(only: string[]): boolean {
  const cases = HOSTILE_CASES.filter((c) => only.length === 0 || only.includes(c.name))
  const rows: string[][] = [['input', 'exit', 'peak RSS', 'time', 'survived', 'first diagnostic']]
  let survived = 0
  for (const hostile of cases) {
    const dir = buildCase(hostile)
    try {
      const run = hostile.loaderWorkers
        ? runMeasured([dir, String(hostile.loaderWorkers)], {}, 'dist/bench/load-workers.js')
        : runMeasured(['validate', '-C', dir])
      const lines = run.stdout.split('\n')
      const reported = hostile.expected.every((e) => {
        const [where, code] = e.split(' ')
        return lines.some((l) => l.startsWith(`${where}: `) && l.includes(`[${code}]`))
      })
      const ok = (run.status === 0 || run.status === 1) && run.stderr === '' && reported && run.peakRssMb <= RSS_LIMIT_MB
      if (ok) survived++
      rows.push([hostile.name, String(run.status), `${run.peakRssMb} MB`, `${run.seconds.toFixed(1)} s`, ok ? 'yes' : 'NO', (lines[0] ?? '').slice(0, 110)])
      process.stderr.write(`${hostile.name}: done\n`)
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
  for (const row of rows) process.stdout.write(`${row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')}\n`)
  process.stdout.write(`\nhostile input: ${cases.length} tried, ${survived} survived (exit 0/1, expected diagnostics, peak RSS ≤ ${RSS_LIMIT_MB} MB via /usr/bin/time -v)\n`)
  return survived === cases.length
}

async function killAnywhere(): Promise<boolean> {
  const total = {tried: 0, survived: 0, duplicated: 0, orphans: 0, lost: 0, missed: 0}
  const byKind: Record<string, number> = {}
  let good = true
  for (const seed of KILL_SEEDS) {
    const report = await runKillAnywhere({seed, rounds: KILL_ROUNDS, log: (line) => process.stderr.write(`kill anywhere (seed ${seed}) ${line}\n`)})
    for (const p of report.phases) {
      process.stdout.write(
        `kill anywhere seed ${seed} ${p.phase.padEnd(7)}  kills ${String(p.kills.length).padStart(2)}  missed ${p.missed.length}  ` +
          `runs to converge ${p.runsToConverge}  plan exit ${p.planExit}  cards ${p.cards}  live ${p.live}  ` +
          `duplicated ${p.duplicated}  orphans ${p.orphans}  lost ${p.lost}\n`,
      )
      for (const problem of p.problems) process.stdout.write(`  problem: ${problem.slice(0, 400)}\n`)
      total.missed += p.missed.length
      if (p.problems.length > 0) good = false
    }
    for (const key of ['tried', 'survived', 'duplicated', 'orphans', 'lost'] as const) total[key] += report[key]
    for (const [kind, n] of Object.entries(report.byKind)) byKind[kind] = (byKind[kind] ?? 0) + n
    process.stdout.write(`kill anywhere seed ${seed}: ${report.tried} kills in ${report.seconds} s\n`)
  }
  process.stdout.write(`kill anywhere, kills by moment: ${JSON.stringify(byKind)}\n`)
  process.stdout.write(
    `kill anywhere: ${total.tried} tried, ${total.survived} survived, ${total.duplicated} duplicated, ${total.lost} lost, ` +
      `${total.orphans} orphans (${total.missed} armed moments not reached: the apply finished first)\n`,
  )
  return good && total.survived === total.tried
}
