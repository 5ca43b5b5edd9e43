import {existsSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import type {StateDocument} from '../../../engine/model/state.js'
import {createProject, liveCards, storeCards, type TestProject} from './project.js'

let p: TestProject | undefined
afterEach(async () => {
  await p?.close()
  p = undefined
})

describe('the state journal through the CLI', () => {
  it('an apply journals its checkpoints and leaves one whole state.json; a killed apply leaves a journal that plan reads and the next apply folds in', async () => {
    p = await createProject({cards: storeCards(20), emulator: {latencyMs: 40}})
    const project = p
    const file = path.join(project.dir, '.cardform/state.json')
    const journal = `${file}.journal`
    const onDisk = () => JSON.parse(readFileSync(file, 'utf8')) as StateDocument

    const child = project.spawnCli(['apply', '--auto-approve', '--parallelism', '1'])
    let exited = false
    child.on('exit', () => (exited = true))
    // While it runs, state.json stays as the first write left it and the checkpoints go to the journal.
    const deadline = Date.now() + 60_000
    while (!exited && project.emulator.admin.stats().cards_created < 8) {
      if (Date.now() > deadline) throw new Error('the apply never created 8 cards')
      await new Promise((r) => setTimeout(r, 5))
    }
    child.kill('SIGKILL')
    await new Promise((r) => (exited ? r(undefined) : child.on('exit', r)))
    expect(existsSync(journal)).toBe(true)
    // The state is the file with the journal folded in: every card made is there (the last one perhaps still
    // `creating`, its POST in flight at the kill), though state.json alone has only the first write.
    const folded = project.state()
    const live = liveCards(project.emulator).map((c) => c.card_id)
    const done = Object.values(folded.resources).filter((r) => r.status === 'created')
    expect(done.length).toBeGreaterThanOrEqual(live.length - 1)
    expect(live).toEqual(expect.arrayContaining(done.map((r) => r.remote_id)))
    expect(Object.keys(onDisk().resources).length).toBeLessThan(done.length)
    // plan reads the same, and leaves the journal where it is.
    const plan = await project.cli(['plan', '--detailed-exitcode'])
    expect(plan.code, plan.stdout + plan.stderr).toBe(2)
    expect(plan.stdout).toContain(`Plan: ${20 - done.length} to create, 0 to update`)
    expect(existsSync(journal)).toBe(true)

    const rerun = await project.cli(['apply', '--auto-approve'])
    expect(rerun.code, rerun.stdout + rerun.stderr).toBe(0)
    expect(existsSync(journal)).toBe(false)
    const state = onDisk()
    expect(Object.values(state.resources).map((r) => r.remote_id).sort()).toEqual(liveCards(project.emulator).map((c) => c.card_id).sort())
    expect(project.emulator.admin.stats().cards_created).toBe(20)
    // The backup is the state.json the last compaction replaced: the one the killed run's first write left.
    const backup = JSON.parse(readFileSync(`${file}.backup`, 'utf8')) as StateDocument
    expect(backup.serial).toBeLessThan(state.serial)
    expect((await project.cli(['plan', '--detailed-exitcode'])).code).toBe(0)
  })
})
