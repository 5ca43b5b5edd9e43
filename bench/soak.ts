import {rmSync} from 'node:fs'
import {buildCase, HOSTILE_CASES} from '../test/reliability/hostile-inputs.js'
import {runMeasured} from '../test/reliability/measure.js'

/**
 * `npm run soak`: issue 11's experiment 6 in full, outside the test suite. Every hostile input of
 * test/reliability/hostile-inputs.ts (the ones `npm test` runs and the slow ones it does not) goes through
 * `cardform validate` in a process of its own, measured with `/usr/bin/time -v`; prints one row per input and the
 * tally. An input survives when validate exits 0 or 1 (never a crash), reports every diagnostic the case expects, and
 * peaks at no more than 200 MB. Exits 1 when one does not.
 */
const RSS_LIMIT_MB = 200

const only = process.argv.slice(2)
const cases = HOSTILE_CASES.filter((c) => only.length === 0 || only.includes(c.name))
const rows: string[][] = [['input', 'exit', 'peak RSS', 'time', 'survived', 'first diagnostic']]
let survived = 0
for (const hostile of cases) {
  const dir = buildCase(hostile)
  try {
    const run = runMeasured(['validate', '-C', dir])
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
process.exitCode = survived === cases.length ? 0 : 1
