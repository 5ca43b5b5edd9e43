import {existsSync} from 'node:fs'
import path from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import type {StateDocument} from '../../../engine/model/state.js'
import {PgStateStore} from '../../../engine/state/pg-store.js'
import {dropSchema, PG_URL, randomSchema, requirePostgres, sql} from '../pg.js'
import {createProject, liveCards, storeCards, type TestProject} from './project.js'


let p: TestProject | undefined
let schema: string | undefined
beforeEach(requirePostgres)
afterEach(async () => {
  await p?.close()
  if (schema) await dropSchema(schema)
  p = undefined
  schema = undefined
})

/** The connection comes from the environment, as a team would write it (no password in cardform.yaml). */
const env = {CARDFORM_TEST_STATE_URL: PG_URL}

async function pgProject(opts: Parameters<typeof createProject>[0] = {}): Promise<TestProject> {
  schema = randomSchema()
  return createProject({
    ...opts,
    backend: ['type: pg', 'connection: ${env:CARDFORM_TEST_STATE_URL}', `schema_name: ${schema}`, 'workspace: production'],
  })
}

/** The state as cardform reads it: the document with its journal rows folded in. */
async function pgState(): Promise<StateDocument> {
  const store = new PgStateStore({connection: PG_URL, schema: schema!, workspace: 'production', version: '0.0.0'})
  try {
    return (await store.read())!
  } finally {
    await store.close()
  }
}

describe('apply with the PostgreSQL state backend', () => {
  it('apply creates the cards and keeps state in the database; the next plan has no changes', async () => {
    p = await pgProject({cards: storeCards(3)})
    const first = await p.cli(['apply', '--auto-approve'], {env})
    expect(first.code, first.stdout + first.stderr).toBe(0)
    const live = liveCards(p.emulator)
    expect(live).toHaveLength(3)
    const state = await pgState()
    expect(Object.values(state.resources).map((r) => r.remote_id).sort()).toEqual(live.map((c) => c.card_id).sort())
    expect(existsSync(path.join(p.dir, '.cardform', 'state.json'))).toBe(false)
    const again = await p.cli(['plan', '--detailed-exitcode'], {env})
    expect(again.code, again.stdout + again.stderr).toBe(0)
    expect(again.stdout).toContain('No changes.')
    const listed = await p.cli(['state', 'list'], {env})
    expect(listed.stdout).toContain('MemberCard.store-00')
  })

  it('a concurrent apply fails naming the holder; once the holder is killed its lock is gone and a re-run converges', async () => {
    // Slow enough (one card at a time, 300 ms a call) that the first apply is still running when the second starts.
    p = await pgProject({cards: storeCards(20), emulator: {latencyMs: 300}})
    const project = p
    const first = project.spawnCli(['apply', '--auto-approve', '--parallelism', '1'], {env})
    let exited = false
    const firstExit = new Promise((resolve) => first.on('exit', () => ((exited = true), resolve(undefined))))
    const deadline = Date.now() + 30_000
    while (project.emulator.admin.stats().cards_created < 1 && !exited && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5))

    const second = await project.cli(['apply', '--auto-approve'], {env})
    expect(second.code, second.stdout + second.stderr).toBe(1)
    expect(second.stderr).toMatch(
      new RegExp(`error\\[state-locked\\]: state at pg:${schema}/production is locked: lock [0-9a-f-]+ held by \\S+ on \\S+ \\(pid ${first.pid}\\) for apply since`),
    )
    expect(second.stderr).not.toContain('postgres://')

    // The holder dies without unlocking: its session ends, and the advisory lock with it.
    first.kill('SIGKILL')
    await firstExit
    const rerun = await project.cli(['apply', '--auto-approve', '--lock-timeout', '10s'], {env})
    expect(rerun.code, rerun.stdout + rerun.stderr).toBe(0)
    expect(liveCards(project.emulator)).toHaveLength(20)
    expect(project.emulator.admin.stats().cards_created).toBe(20)
    expect(Object.keys((await pgState()).resources)).toHaveLength(20)
    expect((await project.cli(['plan', '--detailed-exitcode'], {env})).code).toBe(0)
  })

  it('a run whose lock is force-unlocked stops, and its summary names lock-lost and the last serial it really wrote', async () => {
    // Slow enough (one card at a time, 300 ms a call, 30 cards: ~9 s) that the apply is still running when its lock is
    // taken away, even on a loaded machine where starting the force-unlock CLI takes seconds.
    const cards = 30
    p = await pgProject({cards: storeCards(cards), emulator: {latencyMs: 300}})
    const project = p
    const child = project.spawnCli(['apply', '--auto-approve', '--parallelism', '1'], {env})
    let stdout = ''
    child.stdout!.on('data', (b: Buffer) => (stdout += b.toString()))
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
    const deadline = Date.now() + 30_000
    while (project.emulator.admin.stats().cards_created < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5))
    const [lock] = await sql<{id: string}>(`SELECT info->>'id' AS id FROM "${schema}".locks WHERE workspace = 'production'`)
    const unlocked = await project.cli(['force-unlock', lock!.id], {env})
    expect(unlocked.code, unlocked.stdout + unlocked.stderr).toBe(0)
    expect(await exited).toBe(1)

    const stored = (await pgState()).serial
    expect(stdout).toContain('error[lock-lost]: the state could not be written: the lock')
    expect(stdout).toContain(`The last state this apply wrote is serial ${stored}, lineage`)
    expect(stdout).toMatch(/\d+ skipped \(the state could not be written\)/)
    expect(stdout).not.toContain('State serial')
    // No card was started after the lock was lost; a re-run finishes the rest without a duplicate.
    expect(project.emulator.admin.stats().cards_created).toBeLessThan(cards)
    const rerun = await project.cli(['apply', '--auto-approve'], {env})
    expect(rerun.code, rerun.stdout + rerun.stderr).toBe(0)
    expect(liveCards(project.emulator)).toHaveLength(cards)
    expect(project.emulator.admin.stats().cards_created).toBe(cards)
  })

    it('a database it cannot reach is one clear error, without the password from the URL', async () => {
    p = await pgProject({cards: storeCards(1)})
    const r = await p.cli(['plan'], {env: {CARDFORM_TEST_STATE_URL: 'postgres://cardform:s3cret-pw@127.0.0.1:1/test'}})
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(new RegExp(`^error\\[state-backend\\]: lock of state at pg:${schema}/production failed: PostgreSQL: .*ECONNREFUSED`))
    expect(r.stderr + r.stdout).not.toContain('s3cret')
  })
})
