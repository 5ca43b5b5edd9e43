import {spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {packageRoot} from '../../engine/paths.js'

export interface MeasuredRun {
  status: number | null
  stdout: string
  stderr: string
  /** Peak resident set size of the cardform process, in MB. */
  peakRssMb: number
  seconds: number
  /** What measured it: GNU time, or getrusage from inside the process when /usr/bin/time is missing. */
  via: '/usr/bin/time -v' | 'getrusage'
}

const TIME = '/usr/bin/time'

/**
 * Runs the built CLI (`node bin/run.js …args`), or another built script of the package, and measures its peak RSS:
 * with `/usr/bin/time -v` where it exists, else through bench/rss-probe.ts preloaded into the process (getrusage's maxRSS at exit).
 */
export function runMeasured(args: readonly string[], env: NodeJS.ProcessEnv = {}, script = 'bin/run.js'): MeasuredRun {
  const scratch = mkdtempSync(path.join(tmpdir(), 'cardform-measure-'))
  try {
    const cli = [path.join(packageRoot, script), ...args]
    const useTime = existsSync(TIME)
    const report = path.join(scratch, useTime ? 'time.txt' : 'probe.json')
    const started = process.hrtime.bigint()
    const result = useTime
      ? spawnSync(TIME, ['-v', '-o', report, process.execPath, ...cli], {encoding: 'utf8', env: {...process.env, NO_COLOR: '1', ...env}, maxBuffer: 64 * 1024 * 1024})
      : spawnSync(process.execPath, ['--import', path.join(packageRoot, 'dist/bench/rss-probe.js'), ...cli], {
          encoding: 'utf8',
          env: {...process.env, NO_COLOR: '1', ...env, CARDFORM_BENCH_PROBE: report},
          maxBuffer: 64 * 1024 * 1024,
        })
    const seconds = Number(process.hrtime.bigint() - started) / 1e9
    const text = readFileSync(report, 'utf8')
    const kb = useTime ? Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(text)?.[1]) : (JSON.parse(text) as {max_rss_kb: number}).max_rss_kb
    return {status: result.status, stdout: result.stdout, stderr: result.stderr, peakRssMb: Math.round(kb / 1024), seconds, via: useTime ? '/usr/bin/time -v' : 'getrusage'}
  } finally {
    rmSync(scratch, {recursive: true, force: true})
  }
}
