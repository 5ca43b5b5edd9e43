import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {emptyState, type ResourceState, type StateDocument} from '../../engine/model/state.js'
import {PgStateStore} from '../../engine/state/pg-store.js'
import {createProject, liveCards, storeCards, type CliResult, type TestProject} from '../integration/engine/project.js'
import {dropSchema, PG_URL, randomSchema, requirePostgres, sql} from '../integration/pg.js'

/**
 * Issue 11, experiment 5: two applies started at once (local and pg state), a lock holder killed, force-unlock, and
 * two pg writers racing from the same serial. The promise: exactly one apply proceeds and the other is refused naming
 * the holder; no card is made twice or lost; of two racing writes one is accepted, the other refused, and the
 * serial grows by one per accepted write.
 */

let p: TestProject | undefined
let schema: string | undefined
const stores: PgStateStore[] = []
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close()
  await p?.close()
  if (schema) await dropSchema(schema)
  p = undefined
  schema = undefined
})

const env = {CARDFORM_TEST_STATE_URL: PG_URL}
const CARDS = 30

/** 30 cards created one at a time at 500 ms a call: the winner holds the lock for some 15 s, so even on a loaded machine
 * the second CLI starts (and finds the lock) before the first is done. */
async function project(backend: 'local' | 'pg'): Promise<TestProject> {
  if (backend === 'pg') {
    await requirePostgres()
    schema = randomSchema()
  }
  return createProject({
    cards: storeCards(CARDS),
    emulator: {latencyMs: 500},
    ...(backend === 'pg' ? {backend: ['type: pg', 'connection: ${env:CARDFORM_TEST_STATE_URL}', `schema_name: ${schema}`, 'workspace: default']} : {}),
  })
}

function checkConverged(project: TestProject): {duplicated: number; lost: number} {
  const titles = liveCards(project.emulator).map((c) => c.card.title as string)
  return {duplicated: titles.length - new Set(titles).size, lost: CARDS - new Set(titles).size}
}

describe('two applies started at once', () => {
  for (const backend of ['local', 'pg'] as const) {
    it(`${backend} state: one proceeds, the other is refused naming the holder; no card made twice`, async () => {
      p = await project(backend)
      const cliEnv: NodeJS.ProcessEnv = backend === 'pg' ? env : {}
      const both: CliResult[] = await Promise.all([
        p.cli(['apply', '--auto-approve', '--parallelism', '1'], {env: cliEnv}),
        p.cli(['apply', '--auto-approve', '--parallelism', '1'], {env: cliEnv}),
      ])
      const won = both.filter((r) => r.code === 0)
      const lost = both.filter((r) => r.code === 1)
      expect(won, both.map((r) => r.stdout + r.stderr).join('\n----\n')).toHaveLength(1)
      expect(lost).toHaveLength(1)
      expect(lost[0]!.stderr).toMatch(/error\[state-locked\]: state at \S+ is locked: lock [0-9a-f-]+ held by \S+ on \S+ \(pid \d+\) for apply since/)
      expect(lost[0]!.stdout).not.toContain('✓')
      expect(won[0]!.stdout).toContain(`Apply complete: ${CARDS} cards changed, 0 failed.`)
      const report = {tried: CARDS, survived: liveCards(p.emulator).length, ...checkConverged(p)}
      console.log(`concurrency (${backend}, two applies): ${JSON.stringify(report)}`)
      expect(report).toEqual({tried: CARDS, survived: CARDS, duplicated: 0, lost: 0})
      expect(p.emulator.admin.stats().cards_created).toBe(CARDS)
      expect((await p.cli(['plan', '--detailed-exitcode'], {env: cliEnv})).code).toBe(0)
    }, 120_000)
  }
})

/** Start an apply and SIGKILL it once it has made `n` cards; resolves when it is dead. */
async function killAfter(project: TestProject, n: number, cliEnv: NodeJS.ProcessEnv = {}): Promise<number> {
  const child = project.spawnCli(['apply', '--auto-approve', '--parallelism', '1'], {env: cliEnv})
  let exited = false
  const exit = new Promise((r) => child.on('exit', () => ((exited = true), r(undefined))))
  const deadline = Date.now() + 60_000
  while (project.emulator.admin.stats().cards_created < n && !exited) {
    if (Date.now() > deadline) throw new Error(`the apply made no ${n} cards within 60 s`)
    await new Promise((r) => setTimeout(r, 5))
  }
  expect(exited).toBe(false)
  child.kill('SIGKILL')
  await exit
  return child.pid!
}

describe('a killed lock holder', () => {
  it('local state: a holder on another host stands until force-unlock ID; a dead holder on this host is taken over', async () => {
    p = await project('local')
    const lockFile = path.join(p.dir, '.cardform/state.json.lock')
    await killAfter(p, 3)
    // Seen from another machine sharing the disk, the dead holder cannot be checked: its lock stands.
    const lock = JSON.parse(readFileSync(lockFile, 'utf8')) as {id: string; host: string}
    writeFileSync(lockFile, JSON.stringify({...lock, host: 'another-host'}))
    const refused = await p.cli(['apply', '--auto-approve'])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain(`lock ${lock.id} held by`)
    expect(refused.stderr).toContain(' on another-host ')
    expect(refused.stderr).toContain(`cardform force-unlock ${lock.id}`)
    expect((await p.cli(['force-unlock', 'not-the-id'])).code).toBe(1)
    expect(existsSync(lockFile)).toBe(true)
    const unlocked = await p.cli(['force-unlock', lock.id])
    expect(unlocked.code, unlocked.stdout + unlocked.stderr).toBe(0)
    expect(existsSync(lockFile)).toBe(false)

    // Killed again, on this host: its process is gone, so the next apply takes the lock without being told.
    await killAfter(p, 6)
    expect(existsSync(lockFile)).toBe(true)
    const rerun = await p.cli(['apply', '--auto-approve', '--parallelism', '4'])
    expect(rerun.code, rerun.stdout + rerun.stderr).toBe(0)
    expect(existsSync(lockFile)).toBe(false)
    const report = {tried: CARDS, survived: liveCards(p.emulator).length, ...checkConverged(p)}
    console.log(`concurrency (local, killed holder): ${JSON.stringify(report)}`)
    expect(report).toEqual({tried: CARDS, survived: CARDS, duplicated: 0, lost: 0})
    expect(p.emulator.admin.stats().cards_created).toBe(CARDS)
  }, 120_000)

  it('pg state: the killed holder session ends, so its lock frees by itself and the next apply converges', async () => {
    p = await project('pg')
    await killAfter(p, 3, env)
    // The server ends the dead client's session, and the session's advisory lock with it; the next apply may wait a
    // little for that.
    const rerun = await p.cli(['apply', '--auto-approve', '--parallelism', '4', '--lock-timeout', '30s'], {env})
    expect(rerun.code, rerun.stdout + rerun.stderr).toBe(0)
    expect(rerun.stderr).not.toContain('state-locked')
    const report = {tried: CARDS, survived: liveCards(p.emulator).length, ...checkConverged(p)}
    console.log(`concurrency (pg, killed holder): ${JSON.stringify(report)}`)
    expect(report).toEqual({tried: CARDS, survived: CARDS, duplicated: 0, lost: 0})
    expect(p.emulator.admin.stats().cards_created).toBe(CARDS)
  }, 120_000)
})

function resource(name: string): ResourceState {
  return {kind: 'MemberCard', name, status: 'created', remote_id: `card-${name}`, out_request_no: `orn-${name}`, generation: 1, applied: {}, write_only: {}, updated_at: '2025-01-01T00:00:00Z'}
}

describe('two pg writers racing from the same serial', () => {
  it('one is accepted and the other refused, each round; the serial grows by one per accepted write; nothing accepted is lost', async () => {
    await requirePostgres()
    schema = randomSchema()
    const open = () => {
      const s = new PgStateStore({connection: PG_URL, schema: schema!, workspace: 'default', version: '0.0.0'})
      stores.push(s)
      return s
    }
    const [a, b] = [open(), open()]
    const start: StateDocument = {...emptyState('L1', '0.0.0'), serial: 1}
    await a.write(start)
    const accepted: string[] = []
    const refusals: string[] = []
    const rounds = 12
    for (let round = 0; round < rounds; round++) {
      // Both read the same state, then race a change on top of it: a whole write on even rounds, a journal append
      // (what an apply checkpoints with) on odd ones.
      const [docA, docB] = [(await a.read())!, (await b.read())!]
      expect(docA.serial).toBe(docB.serial)
      const serial = docA.serial + 1
      const attempt = (s: PgStateStore, doc: StateDocument, who: string) => {
        const name = `r${round}-${who}`
        if (round % 2 === 0) return s.write({...doc, serial, resources: {...doc.resources, [`MemberCard.${name}`]: resource(name)}}).then(() => name)
        return s.append({lineage: doc.lineage, serial, resources: {[`MemberCard.${name}`]: resource(name)}, generations: {}}).then(() => name)
      }
      const results = await Promise.allSettled([attempt(a, docA, 'a'), attempt(b, docB, 'b')])
      const won = results.filter((r): r is PromiseFulfilledResult<string> => r.status === 'fulfilled')
      const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected')
      expect(won, JSON.stringify(lost.map((r) => String(r.reason)))).toHaveLength(1)
      expect(lost).toHaveLength(1)
      expect((lost[0]!.reason as {code?: string}).code).toMatch(/^(state-serial|state-conflict)$/)
      accepted.push(won[0]!.value)
      refusals.push((lost[0]!.reason as {code: string}).code)
      const [row] = await sql<{serial: string}>(`SELECT serial FROM "${schema}".states WHERE workspace = 'default'`)
      expect(Number(row!.serial)).toBe(serial)
    }
    const final = (await open().read())!
    const names = Object.keys(final.resources).map((address) => address.slice('MemberCard.'.length)).sort()
    const report = {tried: rounds * 2, survived: names.length, refused: refusals.length, lost: accepted.filter((n) => !names.includes(n)).length, serial: final.serial}
    console.log(`concurrency (pg, racing writers): ${JSON.stringify(report)}`)
    expect(report).toEqual({tried: 24, survived: 12, refused: 12, lost: 0, serial: 1 + rounds})
    expect(names).toEqual([...accepted].sort())
  }, 120_000)
})
