import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {emptyState, type StateDocument} from '../../../engine/model/state.js'
import {LockHeldError, StateCorruptError, StateError, StateVersionError} from '../../../engine/state/errors.js'
import {PgStateStore, type PgStoreOptions} from '../../../engine/state/pg-store.js'
import {dropSchema, PG_URL, randomSchema, requirePostgres, sql, terminateSession} from '../pg.js'

let schema: string
const opened: PgStateStore[] = []

beforeEach(requirePostgres)
beforeEach(() => {
  schema = randomSchema()
})
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close()
  await dropSchema(schema)
})

function store(extra: Partial<PgStoreOptions> = {}): PgStateStore {
  const s = new PgStateStore({connection: PG_URL, schema, workspace: 'default', version: '0.0.0', ...extra})
  opened.push(s)
  return s
}

function doc(serial: number, lineage = 'L1'): StateDocument {
  return {...emptyState(lineage, '0.0.0'), serial}
}

async function row(workspace = 'default'): Promise<{doc: string; serial: string} | undefined> {
  return (await sql<{doc: string; serial: string}>(`SELECT doc, serial FROM "${schema}".states WHERE workspace = $1`, [workspace]))[0]
}

async function lockRow(): Promise<{info: {id: string}; backend_pid: number} | undefined> {
  return (await sql<{info: {id: string}; backend_pid: number}>(`SELECT info, backend_pid FROM "${schema}".locks`))[0]
}

describe('PgStateStore', () => {
  it('reads null when there is no state, and reads back what it wrote, from another instance', async () => {
    const s = store()
    expect(s.location).toBe(`pg:${schema}/default`)
    expect(await s.read()).toBeNull()
    await s.write(doc(1))
    expect(await store().read()).toEqual(doc(1))
    expect(await store({workspace: 'staging'}).read()).toBeNull()
  })

  it('keeps the versions each write replaced, the last N of them', async () => {
    const s = store({historyKeep: 2})
    for (const serial of [1, 2, 3, 4, 5]) await s.write(doc(serial))
    const history = await sql<{serial: string; doc: string}>(`SELECT serial, doc FROM "${schema}".state_history ORDER BY id`)
    expect(history.map((h) => Number(h.serial))).toEqual([3, 4])
    expect(JSON.parse(history[1]!.doc)).toEqual(doc(4))
    expect(Number((await row())!.serial)).toBe(5)
  })

  it('refuses a corrupt row, pointing at the history, and never overwrites it', async () => {
    await store().write(doc(1))
    await sql(`UPDATE "${schema}".states SET doc = $1`, ['{"version": 1, "serial": '])
    const err = await store().read().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(StateCorruptError)
    expect((err as Error).message).toContain(`restore it from ${schema}.state_history (workspace default)`)
    await expect(store().write(doc(2))).rejects.toBeInstanceOf(StateCorruptError)
    expect((await row())!.doc).toBe('{"version": 1, "serial": ')
  })

  it('refuses a row that does not match the state schema', async () => {
    await store().write(doc(1))
    await sql(`UPDATE "${schema}".states SET doc = $1`, [JSON.stringify({...doc(1), resources: {'MemberCard.a': {kind: 'MemberCard'}}})])
    await expect(store().read()).rejects.toThrow(/does not match the state schema/)
  })

  it('refuses state written by a newer cardform, untouched', async () => {
    await store().write(doc(1))
    const newer = JSON.stringify({...doc(1), version: 99})
    await sql(`UPDATE "${schema}".states SET doc = $1`, [newer])
    await expect(store().read()).rejects.toBeInstanceOf(StateVersionError)
    await expect(store().write(doc(2))).rejects.toBeInstanceOf(StateVersionError)
    expect((await row())!.doc).toBe(newer)
  })

  it('refuses to overwrite the state of another lineage', async () => {
    await store().write(doc(1, 'L1'))
    const err = await store().write(doc(5, 'L2')).catch((e: unknown) => e)
    expect(err).toMatchObject({code: 'state-lineage'})
    expect((err as Error).message).toMatch(/belongs to lineage L1, not L2/)
    expect(JSON.parse((await row())!.doc).lineage).toBe('L1')
  })

  it('refuses a serial that does not grow: the write of a stale writer', async () => {
    const s = store()
    await s.write(doc(2))
    for (const serial of [2, 1]) {
      const err = await store().write(doc(serial)).catch((e: unknown) => e)
      expect(err).toMatchObject({code: 'state-serial'})
      expect((err as Error).message).toContain(`it is already at serial 2, so this write was based on an older state (a stale writer)`)
    }
    expect(Number((await row())!.serial)).toBe(2)
    await s.write(doc(3))
    expect(Number((await row())!.serial)).toBe(3)
  })

  it('lets exactly one of two racing first writers (on a fresh schema) win', async () => {
    const results = await Promise.allSettled([store().write(doc(1)), store().write(doc(1))])
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1)
    const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult
    expect(lost.reason).toMatchObject({code: 'state-serial'})
    expect(Number((await row())!.serial)).toBe(1)
  })

  it('locks exclusively across two instances and names the holder', async () => {
    const a = store()
    const held = await a.lock('apply', 0)
    const err = await store().lock('plan', 0).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(LockHeldError)
    expect((err as LockHeldError).message).toContain(`state at pg:${schema}/default is locked: lock ${held.id} held by`)
    expect((err as LockHeldError).message).toContain(`(pid ${process.pid}) for apply`)
    // Another workspace in the same schema has a lock of its own.
    await store({workspace: 'staging'}).lock('apply', 0)
    await a.unlock(held.id)
    expect(await lockRow()).toMatchObject({info: {operation: 'apply'}}) // staging's
    const again = await store().lock('plan', 0)
    expect(again.operation).toBe('plan')
  })

  it('waits for a lock up to the timeout, then names the holder', async () => {
    const a = store()
    const held = await a.lock('apply', 0)
    const started = Date.now()
    const err = await store().lock('plan', 400).catch((e: unknown) => e)
    expect(Date.now() - started).toBeGreaterThanOrEqual(400)
    expect((err as LockHeldError).holder.id).toBe(held.id)
    setTimeout(() => void a.unlock(held.id), 300)
    const waitedFrom = Date.now()
    const got = await store().lock('plan', 5000)
    expect(Date.now() - waitedFrom).toBeGreaterThanOrEqual(250)
    expect(got.operation).toBe('plan')
  })

  it('frees the lock when the holder session dies; the next holder overwrites its row and the old holder cannot write', async () => {
    const a = store()
    await a.write(doc(1))
    const held = await a.lock('apply', 0)
    const pid = (await lockRow())!.backend_pid
    // What a killed cardform or a lost connection looks like to the server: the session ends.
    await terminateSession(pid)
    const got = await store().lock('apply', 5000)
    expect((await lockRow())!.info.id).toBe(got.id)
    expect(got.id).not.toBe(held.id)
    await expect(a.write(doc(2))).rejects.toMatchObject({code: 'lock-lost'})
    expect(Number((await row())!.serial)).toBe(1)
    await a.unlock(held.id) // quiet: its session is already gone
  })

  it('force-unlock needs the matching ID, ends the holder session, and the holder then refuses to write', async () => {
    const a = store()
    await a.write(doc(1))
    const held = await a.lock('apply', 0)
    const b = store()
    await expect(b.forceUnlock('wrong')).rejects.toMatchObject({code: 'lock-mismatch'})
    await expect(b.lock('plan', 0)).rejects.toBeInstanceOf(LockHeldError)
    expect(await b.forceUnlock(held.id)).toMatchObject({id: held.id, operation: 'apply'})
    expect(await lockRow()).toBeUndefined()
    const got = await b.lock('plan', 0)
    await expect(a.write(doc(2))).rejects.toMatchObject({code: 'lock-lost'})
    await b.write(doc(2))
    await b.unlock(got.id)
    await expect(b.forceUnlock(got.id)).rejects.toMatchObject({code: 'lock-not-found'})
  })

  it('force-unlock removes the row of a holder whose session is already gone', async () => {
    const a = store()
    const held = await a.lock('apply', 0)
    await terminateSession((await lockRow())!.backend_pid)
    expect((await store().forceUnlock(held.id)).id).toBe(held.id)
    expect(await lockRow()).toBeUndefined()
  })

  it('reports a database it cannot reach as a state-backend error, without the password', async () => {
    const s = new PgStateStore({connection: 'postgres://u:s3cret-pw@127.0.0.1:1/test', schema, workspace: 'default', version: '0'})
    opened.push(s)
    const err = await s.read().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(StateError)
    expect(err).toMatchObject({code: 'state-backend'})
    expect((err as Error).message).toMatch(new RegExp(`^read of state at pg:${schema}/default failed: PostgreSQL: .*ECONNREFUSED`))
    expect((err as Error).message).not.toContain('s3cret')
  })
})
