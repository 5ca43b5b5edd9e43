import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {emptyState, type ResourceState, type StateDocument} from '../../../engine/model/state.js'
import {StateCorruptError} from '../../../engine/state/errors.js'
import {PgStateStore, type PgStoreOptions} from '../../../engine/state/pg-store.js'
import {StateManager} from '../../../engine/state/state-manager.js'
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

function card(i: number): ResourceState {
  return {
    kind: 'MemberCard',
    name: `c${i}`,
    status: 'created',
    remote_id: `p${String(i).padStart(27, '0')}`,
    out_request_no: `cf-${String(i).padStart(40, '0')}`,
    generation: 1,
    applied: {title: `卡${i}`, description: '凭会员卡享九五折，每月第一个周六享双倍积分。'.repeat(3)},
    write_only: {},
    updated_at: '2026-01-01T00:00:00.000Z',
  }
}

/** A state of `n` cards written whole, read back by a new store (an apply's view) with a StateManager over it. */
async function seeded(n: number): Promise<{s: PgStateStore; m: StateManager}> {
  const d: StateDocument = {...emptyState('L1', '0.0.0'), serial: 3}
  for (let i = 0; i < n; i++) {
    d.resources[`MemberCard.c${i}`] = card(i)
    d.generations[`MemberCard.c${i}`] = 1
  }
  await store().write(d)
  const s = store()
  return {s, m: new StateManager(s, (await s.read())!)}
}

async function addCard(m: StateManager, i: number): Promise<void> {
  m.doc.resources[`MemberCard.c${i}`] = card(i)
  m.doc.generations[`MemberCard.c${i}`] = 1
  await m.persist(`MemberCard.c${i}`)
}

async function row(): Promise<{doc: string; serial: string}> {
  return (await sql<{doc: string; serial: string}>(`SELECT doc, serial FROM "${schema}".states WHERE workspace = 'default'`))[0]!
}

async function journalRows(): Promise<Array<{serial: string; record: string}>> {
  return sql(`SELECT serial, record FROM "${schema}".journal WHERE workspace = 'default' ORDER BY serial`)
}

describe('PgStateStore journal', () => {
  it('a checkpoint is one journal row and moves the row serial; the document is untouched; a reader folds the journal in', async () => {
    const {m} = await seeded(2)
    const before = (await row()).doc
    await addCard(m, 7)
    delete m.doc.resources['MemberCard.c0']
    await m.persist('MemberCard.c0')

    expect((await row()).doc).toBe(before)
    expect(Number((await row()).serial)).toBe(5)
    const rows = await journalRows()
    expect(rows.map((r) => Number(r.serial))).toEqual([4, 5])
    expect(JSON.parse(rows[1]!.record)).toEqual({serial: 5, resources: {'MemberCard.c0': null}, generations: {'MemberCard.c0': 1}})
    const read = (await store().read())!
    expect(read).toEqual(m.doc)
    expect(Object.keys(read.resources).sort()).toEqual(['MemberCard.c1', 'MemberCard.c7'])
  })

  it('an uploaded image is a journal row of its own, folded in by a reader and kept by compaction', async () => {
    const {m} = await seeded(1)
    const sha = 'cd'.repeat(32)
    m.doc.media = {[sha]: {media_url: 'https://media.example/cd.png', file: 'cards/assets/card.png', bytes: 1399, uploaded_at: '2026-12-02T00:00:00.000Z'}}
    await m.persistMedia(sha)
    expect(JSON.parse((await journalRows())[0]!.record)).toEqual({serial: 4, resources: {}, generations: {}, media: m.doc.media})
    expect((await store().read())!.media).toEqual(m.doc.media)
    await m.compact()
    expect(await journalRows()).toEqual([])
    expect((await store().read())!.media).toEqual(m.doc.media)
  })

  it('compaction folds the journal into the document, keeps the serial, sends the replaced document to history and deletes the rows', async () => {
    const {m} = await seeded(1)
    const before = (await row()).doc
    await addCard(m, 5)
    await addCard(m, 6)
    await m.compact()
    expect(await journalRows()).toEqual([])
    const after = await row()
    expect(Number(after.serial)).toBe(5)
    expect(JSON.parse(after.doc)).toEqual(m.doc)
    const history = await sql<{serial: string; doc: string}>(`SELECT serial, doc FROM "${schema}".state_history ORDER BY id`)
    expect(history.at(-1)!.doc).toBe(before)
    expect(await store().read()).toEqual(m.doc)
    // The next checkpoint appends again.
    await addCard(m, 8)
    expect((await journalRows()).map((r) => Number(r.serial))).toEqual([6])
  })

  it('a reader that finds journal rows left by an interrupted run writes the whole document first; a compaction then removes them', async () => {
    const {s, m} = await seeded(1)
    await addCard(m, 2)
    opened.splice(opened.indexOf(s), 1)
    await s.close() // killed: the journal stays
    const next = store()
    const d = (await next.read())!
    expect(Object.keys(d.resources)).toHaveLength(2)
    expect(next.canAppend()).toBe(false)
    await next.compact(d)
    expect(await journalRows()).toEqual([])
    expect(next.canAppend()).toBe(true)
    expect(await store().read()).toEqual(d)
  })

  it('refuses a checkpoint of a stale writer, of another lineage, or after the lock was lost, and records nothing', async () => {
    const {s, m} = await seeded(1)
    const other = store()
    await other.read()
    await addCard(m, 2)
    await expect(other.append({lineage: 'L1', serial: 4, resources: {}, generations: {}})).rejects.toMatchObject({code: 'state-serial'})
    await expect(other.append({lineage: 'L2', serial: 9, resources: {}, generations: {}})).rejects.toMatchObject({code: 'state-lineage'})

    await s.lock('apply', 0)
    const [lock] = await sql<{backend_pid: number}>(`SELECT backend_pid FROM "${schema}".locks`)
    await terminateSession(lock!.backend_pid)
    m.doc.resources['MemberCard.c3'] = card(3)
    await expect(m.persist('MemberCard.c3')).rejects.toMatchObject({code: 'lock-lost'})
    expect((await journalRows()).map((r) => Number(r.serial))).toEqual([4])
    expect(Number((await row()).serial)).toBe(4)
    // The compaction of a run that lost its lock is refused too.
    await expect(s.compact(m.doc)).rejects.toMatchObject({code: 'lock-lost'})
  })

  it('refuses a corrupt journal row, naming it, and a row whose journal does not reach its serial', async () => {
    const {m} = await seeded(1)
    await addCard(m, 2)
    await addCard(m, 3)
    await sql(`UPDATE "${schema}".journal SET record = '{"serial": 5, "resou' WHERE serial = 5`)
    const err = await store().read().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(StateCorruptError)
    expect((err as Error).message).toContain('journal row 5 is not valid JSON')
    await sql(`DELETE FROM "${schema}".journal WHERE serial = 5`)
    await expect(store().read()).rejects.toThrow(/the row is at serial 5, but its document and journal reach serial 4/)
    await sql(`UPDATE "${schema}".journal SET record = $1 WHERE serial = 4`, [JSON.stringify({serial: 4, resources: {'MemberCard.x': {kind: 'MemberCard'}}, generations: {}})])
    await sql(`UPDATE "${schema}".states SET serial = 4`)
    await expect(store().read()).rejects.toThrow(/does not match the state schema/)
  })

  it('the WAL a checkpoint writes does not grow with the state: 2,000 cards against 10', async () => {
    const walPerCheckpoint = async (cards: number): Promise<number> => {
      const {m} = await seeded(cards)
      await addCard(m, cards) // the first one creates the table's pages
      const [start] = await sql<{lsn: string}>('SELECT pg_current_wal_insert_lsn() AS lsn')
      for (let i = cards + 1; i <= cards + 50; i++) await addCard(m, i)
      const [bytes] = await sql<{n: string}>('SELECT pg_current_wal_insert_lsn() - $1::pg_lsn AS n', [start!.lsn])
      await sql(`DROP SCHEMA "${schema}" CASCADE`)
      return Number(bytes!.n) / 50
    }
    const small = await walPerCheckpoint(10)
    const large = await walPerCheckpoint(2000)
    const docBytes = 2000 * JSON.stringify(card(1)).length
    // Rewriting the document would cost about its size (hundreds of kilobytes) per checkpoint.
    expect(large).toBeLessThan(Math.max(2 * small, 16 * 1024))
    expect(large).toBeLessThan(docBytes / 20)
  })
})
