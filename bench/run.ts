import {applyBenchmark} from './apply.js'
import {clientGetBenchmark} from './client-get.js'
import {emulatorBenchmark} from './emulator-throughput.js'
import {planBenchmark} from './plan.js'
import {planMemoryBenchmark} from './plan-memory.js'
import {validateBenchmark} from './validate.js'
import {versionBenchmark} from './version.js'

/**
 * Benchmarks, run by name after a build: `npm run bench -- validate`. Not tests: they print figures and exit 0
 * unless a benchmark itself fails. To add one, write `bench/<name>.ts` exporting a Benchmark and list it here.
 */
export interface Benchmark {
  name: string
  description: string
  run(args: readonly string[]): Promise<void>
}

const benchmarks: readonly Benchmark[] = [
  validateBenchmark,
  versionBenchmark,
  clientGetBenchmark,
  emulatorBenchmark,
  planBenchmark,
  applyBenchmark,
  planMemoryBenchmark,
]

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv
  const chosen = benchmarks.find((b) => b.name === name)
  if (!chosen) {
    const list = benchmarks.map((b) => `  ${b.name.padEnd(12)} ${b.description}`).join('\n')
    process.stderr.write(`${name === undefined ? 'which benchmark?' : `unknown benchmark: ${name}`}\nusage: npm run bench -- NAME\n${list}\n`)
    return 2
  }
  await chosen.run(rest)
  return 0
}

process.exitCode = await main(process.argv.slice(2))
