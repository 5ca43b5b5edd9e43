import {describe, expect, it} from 'vitest'
import {runKillAnywhere} from './kill-anywhere.js'

/**
 * Issue 11, experiment 1 (kill-anywhere.ts): one round of the seeded scenario, which kills apply at every kind of
 * moment at least once: creates, PATCHes, rights PATCHes, both points of a replacement, deletes and invalidates,
 * each before and after the emulator saw the call; journal appends; every step of a compaction, at the start of a
 * run and at its end; and a step of the first, whole-file write. `npm run soak` runs more rounds and seeds.
 */
describe('kill anywhere', () => {
  it('SIGKILLed at every kind of moment across four phases, apply converges: no duplicate, no orphan, no lost card, an empty plan', async () => {
    const report = await runKillAnywhere({seed: 11, rounds: 1})
    for (const phase of report.phases) console.log(`kill anywhere, ${phase.phase}: ${JSON.stringify({...phase, problems: phase.problems.length})}`)
    console.log(`kill anywhere: ${JSON.stringify({tried: report.tried, survived: report.survived, duplicated: report.duplicated, orphans: report.orphans, lost: report.lost, seconds: report.seconds})}`)
    console.log(`kill anywhere, kills by moment: ${JSON.stringify(report.byKind)}`)
    for (const phase of report.phases) expect(phase.problems, phase.phase).toEqual([])
    expect(report).toMatchObject({duplicated: 0, orphans: 0, lost: 0})
    expect(report.survived).toBe(report.tried)
    // Every kind of moment was really reached (not only armed).
    for (const kind of ['create', 'patch', 'rights', 'replace-create', 'replace-remove', 'delete', 'invalidate']) {
      expect(report.byKind, kind).toHaveProperty([`${kind} (before)`])
      expect(report.byKind, kind).toHaveProperty([`${kind} (after)`])
    }
    for (const point of ['compact-temp', 'compact-backup', 'compact-rename']) {
      expect(report.byKind, point).toHaveProperty([`${point} (start)`])
      expect(report.byKind, point).toHaveProperty([`${point} (end)`])
    }
    expect(report.byKind).toHaveProperty(['journal-append'])
    expect(Object.keys(report.byKind).filter((k) => k.startsWith('write-'))).toHaveLength(1)
  }, 300_000)
})
