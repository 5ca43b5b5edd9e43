/**
 * A test hook, and only that: `CARDFORM_TEST_CRASH=POINT:N` makes the process SIGKILL itself the N-th time (counted
 * from 1, per process) it reaches POINT of a local state write, so that the kill-anywhere experiment
 * (test/reliability/kill-anywhere.ts) can die in the middle of a write, which no signal from outside can time. Unset
 * (always, outside that experiment) it does nothing; a value that is not exactly `POINT:N` is an error, so a stray
 * setting cannot go unnoticed.
 *
 * POINT is `journal-append` (half of the checkpoint's line is appended and synced first: a torn line), or a step of
 * a whole-file write, `write-…` for a one-off write and `compact-…` for a compaction: `…-temp` (half the temp file
 * written and synced), `…-backup` (the backup copied, the rename not done), `…-rename` (the new file in place, the
 * journal not yet removed).
 */
export const CRASH_POINTS = ['journal-append', 'write-temp', 'write-backup', 'write-rename', 'compact-temp', 'compact-backup', 'compact-rename'] as const
export type CrashPoint = (typeof CRASH_POINTS)[number]

const ENV = 'CARDFORM_TEST_CRASH'
let armed: {point: CrashPoint; n: number} | null | undefined
const reached = new Map<CrashPoint, number>()

function parse(): {point: CrashPoint; n: number} | null {
  const value = process.env[ENV]
  if (value === undefined || value === '') return null
  const m = /^([a-z-]+):([1-9][0-9]*)$/.exec(value)
  if (!m || !(CRASH_POINTS as readonly string[]).includes(m[1]!)) {
    throw new Error(`${ENV}=${value}: this test hook takes POINT:N, POINT one of ${CRASH_POINTS.join(', ')}`)
  }
  return {point: m[1] as CrashPoint, n: Number(m[2])}
}

/** True when the process is to die at this arrival at `point` (the caller writes its partial bytes, then `crashNow`). */
export function crashDue(point: CrashPoint): boolean {
  if (armed === undefined) armed = parse()
  if (armed === null || armed.point !== point) return false
  const count = (reached.get(point) ?? 0) + 1
  reached.set(point, count)
  return count === armed.n
}

/** SIGKILL this process: no handler, no flush, no `finally` runs, as with `kill -9` from outside. */
export async function crashNow(): Promise<never> {
  process.kill(process.pid, 'SIGKILL')
  return new Promise<never>(() => {})
}
