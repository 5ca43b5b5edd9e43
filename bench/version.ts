import {spawnSync} from 'node:child_process'
import {loadavg} from 'node:os'
import path from 'node:path'
import {packageRoot} from '../engine/paths.js'
import type {Benchmark} from './run.js'

const RUNS = 20
const BUDGET_MS = 300

/**
 * Start-up time: `cardform --version` in a new process, against `node -e 0` (no CLI can start faster than node
 * itself), plus `cardform validate` on the four-card quickstart, which is start-up plus a small load. Each command
 * runs once to warm the file cache, then RUNS times; median and 90th percentile are reported.
 */
export const versionBenchmark: Benchmark = {
  name: 'version',
  description: `\`cardform --version\` start-up against \`node -e 0\`, ${RUNS} runs each`,
  async run(args) {
    const runs = Number(args[0] ?? RUNS)
    const bin = path.join(packageRoot, 'bin/run.js')
    const ideal = measure(['-e', '0'], runs)
    // Only `--version` has a budget (issue 2); the others are for comparison.
    const rows: Array<[string, Timing, number | undefined]> = [
      ['node -e 0 (ideal bound)', ideal, undefined],
      ['cardform --version', measure([bin, '--version'], runs), BUDGET_MS],
      ['cardform validate -C examples/quickstart', measure([bin, 'validate', '-C', path.join(packageRoot, 'examples/quickstart')], runs), undefined],
    ]
    process.stdout.write(`version benchmark: ${runs} runs each, new process per run; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`)
    for (const [label, {median, p90}, budget] of rows) {
      process.stdout.write(
        `  ${label.padEnd(42)} median ${median.toFixed(0).padStart(5)} ms  p90 ${p90.toFixed(0).padStart(5)} ms  ` +
          `${(median / ideal.median).toFixed(2)}x ideal` +
          `${budget === undefined ? '' : `  ${(median / budget).toFixed(2)}x of the ${budget} ms budget`}\n`,
      )
    }
  },
}

interface Timing {
  median: number
  p90: number
}

function measure(args: readonly string[], runs: number): Timing {
  const once = () => {
    const start = performance.now()
    const run = spawnSync(process.execPath, args, {encoding: 'utf8', env: {...process.env, NO_COLOR: '1'}})
    if (run.status !== 0) throw new Error(`node ${args.join(' ')} failed: ${run.stdout}${run.stderr}`)
    return performance.now() - start
  }
  once()
  const times = Array.from({length: runs}, once).sort((a, b) => a - b)
  const at = (fraction: number) => times[Math.min(times.length - 1, Math.ceil(fraction * times.length) - 1)]!
  return {median: at(0.5), p90: at(0.9)}
}
