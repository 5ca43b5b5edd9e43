import {MultiBar, type SingleBar} from 'cli-progress'
import type {Progress} from '../engine/model/progress.js'

/**
 * The progress line a person sees while cards are read or applied: cards done / total, requests per second and the
 * time left. It is drawn (by cli-progress, on standard error) only for a person at a terminal: never in CI, with
 * --json or --markdown, with --no-progress, or when either output stream is not a terminal (`plan | less`,
 * `apply | tee log`: a bar would be drawn over the pager, or the lines printed above it would miss the log).
 */
export function showProgress(opts: {
  flag: boolean | undefined
  machineOutput: boolean
  stdoutTTY: boolean
  stderrTTY: boolean
  env: NodeJS.ProcessEnv
}): boolean {
  if (opts.flag === false || opts.machineOutput) return false
  if (!opts.stdoutTTY || !opts.stderrTTY) return false
  const ci = opts.env['CI']
  if (ci !== undefined && ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false') return false
  return opts.env['TERM'] !== 'dumb'
}

/** Rates over the last few seconds, so a slow start or a pause in the middle does not skew them for long. */
export class RateWindow {
  private samples: Array<{t: number; done: number; requests: number}> = []

  constructor(private readonly windowMs = 5000) {}

  add(t: number, p: Progress): void {
    this.samples.push({t, done: p.done, requests: p.requests})
    // Keep one sample older than the window, so the rate always spans at least the window once it has passed.
    while (this.samples.length > 2 && this.samples[1]!.t <= t - this.windowMs) this.samples.shift()
  }

  /** Requests and cards per second; undefined until some time has passed. */
  rates(): {requests: number; cards: number} | undefined {
    const first = this.samples[0]
    const last = this.samples.at(-1)
    if (!first || !last || last.t - first.t < 200) return undefined
    const s = (last.t - first.t) / 1000
    return {requests: (last.requests - first.requests) / s, cards: (last.done - first.done) / s}
  }
}

/** `42s`, `3m05s`, `1h02m`; `--` when unknown. */
export function formatEta(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '--'
  const s = Math.max(0, Math.ceil(seconds))
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
}

/** The values the bar's format shows besides the count. */
export function progressPayload(label: string, p: Progress, rates: ReturnType<RateWindow['rates']>): {label: string; rate: string; time_left: string} {
  const remaining = p.total - p.done
  const eta = remaining === 0 ? 0 : rates && rates.cards > 0 ? remaining / rates.cards : undefined
  return {label, rate: rates ? rates.requests.toFixed(rates.requests < 10 ? 1 : 0) : '--', time_left: formatEta(eta)}
}

/** A run shorter than this shows no bar at all: it would only flash. */
const SHOW_AFTER_MS = 300

/**
 * The progress display of one command. `update` starts a bar for a phase (after SHOW_AFTER_MS) and moves it; `log`
 * prints a line above the bar (or to standard output when no bar is shown); `stop` clears the bar, and must be called
 * before anything else is printed. When disabled every call but `log` does nothing.
 */
export class ProgressDisplay {
  private multibar: MultiBar | undefined
  private bar: SingleBar | undefined
  private phase: {label: string; started: number; window: RateWindow} | undefined

  constructor(
    private readonly enabled: boolean,
    private readonly now: () => number = Date.now,
  ) {}

  update(label: string, p: Progress): void {
    if (!this.enabled) return
    if (this.phase?.label !== label) {
      this.stop()
      this.phase = {label, started: this.now(), window: new RateWindow()}
    }
    const t = this.now()
    this.phase.window.add(t, p)
    const payload = progressPayload(label, p, this.phase.window.rates())
    if (!this.bar) {
      if (p.total === 0 || p.done >= p.total || t - this.phase.started < SHOW_AFTER_MS) return
      this.multibar = new MultiBar({
        // Under 80 columns with 10,000 cards. ASCII only: block characters are double width on many CJK terminals,
        // and a line that wraps cannot be redrawn in place.
        format: '{label} [{bar}] {value}/{total} cards | {rate} req/s | ETA {time_left}',
        barsize: 20,
        barCompleteChar: '=',
        barIncompleteChar: '-',
        clearOnComplete: true,
        // Neither the cursor nor the terminal's line wrapping is touched, so a process that exits with the bar shown
        // leaves the terminal as it was (lines longer than the terminal are cut instead).
        hideCursor: false,
        linewrap: true,
        // apply handles Ctrl-C itself; the bar is cleared by stop() on every way out.
        gracefulExit: false,
        fps: 10,
      })
      this.bar = this.multibar.create(p.total, p.done, payload)
      return
    }
    this.bar.setTotal(p.total)
    this.bar.update(p.done, payload)
  }

  /** A line (no newline) above the bar, or through `fallback` when no bar shows. */
  log(line: string, fallback: (line: string) => void = (l) => process.stdout.write(l + '\n')): void {
    if (this.multibar) this.multibar.log(line + '\n')
    else fallback(line)
  }

  /** Clear the bar (printing the lines logged since the last redraw first); the next update starts a new phase. */
  stop(): void {
    this.phase = undefined
    if (!this.multibar) return
    this.multibar.update()
    this.multibar.stop()
    this.multibar = undefined
    this.bar = undefined
  }
}
