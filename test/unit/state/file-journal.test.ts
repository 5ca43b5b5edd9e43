import {appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {emptyState, type ResourceState, type StateDocument} from '../../../engine/model/state.js'
import {StateCorruptError} from '../../../engine/state/errors.js'
import {FileStateStore} from '../../../engine/state/file-store.js'
import {StateManager} from '../../../engine/state/state-manager.js'

let dir: string
let file: string
let journal: string
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'cardform-journal-'))
  file = path.join(dir, '.cardform', 'state.json')
  journal = `${file}.journal`
})
afterEach(() => rmSync(dir, {recursive: true, force: true}))

const store = () => new FileStateStore(file, '0.0.0', '.cardform/state.json')

function card(i: number, status: ResourceState['status'] = 'created'): ResourceState {
  return {
    kind: 'MemberCard',
    name: `c${i}`,
    status,
    ...(status === 'created' ? {remote_id: `p${String(i).padStart(27, '0')}`} : {}),
    out_request_no: `cf-${String(i).padStart(40, '0')}`,
    generation: 1,
    applied: {title: `卡${i}`, description: '凭会员卡享九五折，每月第一个周六享双倍积分。'.repeat(3)},
    write_only: {},
    updated_at: '2026-01-01T00:00:00.000Z',
  }
}

/** A state of `n` cards, written whole (as the last compaction left it). */
async function seed(n: number, lineage = 'L1'): Promise<StateDocument> {
  const d: StateDocument = {...emptyState(lineage, '0.0.0'), serial: 3}
  for (let i = 0; i < n; i++) {
    d.resources[`MemberCard.c${i}`] = card(i)
    d.generations[`MemberCard.c${i}`] = 1
  }
  await store().write(d)
  return d
}

/** An apply's view: read the state, then checkpoint through a StateManager. */
async function open(): Promise<{s: FileStateStore; m: StateManager}> {
  const s = store()
  const d = (await s.read())!
  return {s, m: new StateManager(s, d)}
}

function lines(): string[] {
  return readFileSync(journal, 'utf8').split('\n').filter(Boolean)
}

describe('the state journal (file store)', () => {
  it('appends one line per checkpoint, leaves state.json alone, and reads back the file with the journal folded in', async () => {
    await seed(3)
    const before = readFileSync(file, 'utf8')
    const {s, m} = await open()
    m.doc.resources['MemberCard.c9'] = card(9, 'creating')
    m.doc.generations['MemberCard.c9'] = 1
    await m.persist('MemberCard.c9')
    m.doc.resources['MemberCard.c9'] = card(9)
    await m.persist('MemberCard.c9')
    delete m.doc.resources['MemberCard.c0']
    await m.persist('MemberCard.c0')

    expect(readFileSync(file, 'utf8')).toBe(before)
    const written = lines().map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(written[0]).toEqual({format: 'cardform-state-journal', version: 1, lineage: 'L1', base_serial: 3})
    expect(written.slice(1).map((r) => r['serial'])).toEqual([4, 5, 6])
    expect(written[3]).toEqual({serial: 6, resources: {'MemberCard.c0': null}, generations: {'MemberCard.c0': 1}})
    const read = (await store().read())!
    expect(read).toEqual(m.doc)
    expect(read.serial).toBe(6)
    expect(Object.keys(read.resources).sort()).toEqual(['MemberCard.c1', 'MemberCard.c2', 'MemberCard.c9'])
    await s.close()
  })

  it('records an uploaded image (sha256 → media URL) as its own checkpoint, folded in on read and kept by compaction', async () => {
    await seed(2)
    const {s, m} = await open()
    const sha = 'ab'.repeat(32)
    m.doc.media = {[sha]: {media_url: 'https://media.example/ab.png', file: 'cards/assets/logo.png', bytes: 327, uploaded_at: '2026-12-02T00:00:00.000Z'}}
    await m.persistMedia(sha)
    expect(JSON.parse(lines().at(-1)!)).toEqual({serial: 4, resources: {}, generations: {}, media: m.doc.media})
    const read = (await store().read())!
    expect(read.media).toEqual(m.doc.media)
    await m.compact()
    expect(existsSync(journal)).toBe(false)
    expect((await store().read())!.media).toEqual(m.doc.media)
    await s.close()
  })

  it('compaction writes the folded document with the same serial, keeps the previous file as the backup and removes the journal', async () => {
    await seed(2)
    const before = readFileSync(file, 'utf8')
    const {s, m} = await open()
    m.doc.resources['MemberCard.c5'] = card(5)
    await m.persist('MemberCard.c5')
    await m.compact()
    expect(existsSync(journal)).toBe(false)
    expect(readFileSync(`${file}.backup`, 'utf8')).toBe(before)
    const onDisk = JSON.parse(readFileSync(file, 'utf8')) as StateDocument
    expect(onDisk.serial).toBe(4)
    expect(onDisk).toEqual(m.doc)
    // The next checkpoint starts a new journal on the compacted file.
    m.doc.resources['MemberCard.c6'] = card(6)
    await m.persist('MemberCard.c6')
    expect(JSON.parse(lines()[0]!)).toMatchObject({base_serial: 4})
    expect((await store().read())!.serial).toBe(5)
    await s.close()
  })

  it('writes the whole file when the store has not read the state, or for persist() without addresses', async () => {
    const s = store()
    const m = new StateManager(s, emptyState('L1', '0.0.0'))
    m.doc.resources['MemberCard.c1'] = card(1)
    await m.persist('MemberCard.c1')
    expect(existsSync(journal)).toBe(false)
    expect((JSON.parse(readFileSync(file, 'utf8')) as StateDocument).serial).toBe(1)
    // Written once, so it knows the file: now it appends.
    m.doc.resources['MemberCard.c2'] = card(2)
    await m.persist('MemberCard.c2')
    expect(lines()).toHaveLength(2)
    await m.persist()
    expect(existsSync(journal)).toBe(false)
    expect((JSON.parse(readFileSync(file, 'utf8')) as StateDocument).serial).toBe(3)
    await s.close()
  })

  it('ignores a torn last line (an append cut short by a crash); the next run folds the rest in and starts afresh', async () => {
    await seed(1)
    const {s, m} = await open()
    m.doc.resources['MemberCard.c7'] = card(7)
    await m.persist('MemberCard.c7')
    await s.close()
    appendFileSync(journal, '{"serial":5,"resources":{"MemberCard.c8":{"kind":"Mem')

    const next = store()
    const read = (await next.read())!
    expect(read.serial).toBe(4)
    expect(Object.keys(read.resources).sort()).toEqual(['MemberCard.c0', 'MemberCard.c7'])
    // A journal it did not start may end in a torn line: the first checkpoint writes the whole file, never appending after it.
    expect(next.canAppend()).toBe(false)
    await next.compact(read)
    expect(existsSync(journal)).toBe(false)
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(read)
    expect(next.canAppend()).toBe(true)
  })

  it('refuses a journal whose middle line is corrupt, naming it, and overwrites neither file', async () => {
    await seed(1)
    const {s, m} = await open()
    for (const i of [1, 2, 3]) {
      m.doc.resources[`MemberCard.c${i}`] = card(i)
      await m.persist(`MemberCard.c${i}`)
    }
    await s.close()
    const text = readFileSync(journal, 'utf8').split('\n')
    text[2] = text[2]!.slice(0, 40) + 'garbage' + text[2]!.slice(40)
    writeFileSync(journal, text.join('\n'))
    const before = [readFileSync(file, 'utf8'), readFileSync(journal, 'utf8')]

    const err = await store().read().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(StateCorruptError)
    expect((err as Error).message).toMatch(/state at \.cardform\/state\.json is unreadable: \.cardform\/state\.json\.journal line 3 is not valid JSON/)
    await expect(store().write({...emptyState('L1', '0.0.0'), serial: 50})).rejects.toBeInstanceOf(StateCorruptError)
    expect([readFileSync(file, 'utf8'), readFileSync(journal, 'utf8')]).toEqual(before)
  })

  it('refuses a record whose entry does not match the state schema', async () => {
    await seed(1)
    writeFileSync(journal, '{"format":"cardform-state-journal","version":1,"lineage":"L1","base_serial":3}\n{"serial":4,"resources":{"MemberCard.x":{"kind":"MemberCard"}},"generations":{}}\n')
    await expect(store().read()).rejects.toThrow(/does not match the state schema/)
  })

  it('refuses a journal of another lineage', async () => {
    await seed(1)
    writeFileSync(journal, '{"format":"cardform-state-journal","version":1,"lineage":"L2","base_serial":3}\n')
    await expect(store().read()).rejects.toThrow(/journal belongs to lineage L2, not L1/)
  })

  it('skips a journal the file already holds (a compaction stopped before removing it), and refuses one that would leave a gap', async () => {
    await seed(1)
    const {s, m} = await open()
    m.doc.resources['MemberCard.c4'] = card(4)
    await m.persist('MemberCard.c4')
    await s.close()
    const stale = readFileSync(journal, 'utf8')
    // The state as a compaction writes it, with the journal it folded still beside it.
    const folded = (await store().read())!
    writeFileSync(file, JSON.stringify(folded))
    expect(await store().read()).toEqual(folded)
    // A file older than the journal's base (restored by hand from a backup): the journal cannot be applied to it.
    writeFileSync(file, JSON.stringify({...folded, serial: 2}))
    await expect(store().read()).rejects.toThrow(/journal \.cardform\/state\.json\.journal continues a later serial than the file's 2/)
    // A journal starting below the file but holding records beyond it skipped changes in between.
    writeFileSync(file, JSON.stringify({...folded, serial: 3}))
    writeFileSync(journal, stale.replace('"base_serial":3', '"base_serial":1').replace('"serial":4', '"serial":6'))
    await expect(store().read()).rejects.toThrow(/continues serial 1, not the file's 3/)
  })

  it('refuses a journal with no state file beside it', async () => {
    await seed(1)
    const {s, m} = await open()
    await m.persist('MemberCard.c0')
    await s.close()
    rmSync(file)
    await expect(store().read()).rejects.toThrow(/there is a journal .* but no state file/)
  })

  it('the bytes a checkpoint writes do not grow with the state: 2,000 checkpoints on a state of 2,000 cards', async () => {
    await seed(2000)
    const fileSize = statSync(file).size
    const {s, m} = await open()
    const sizes: number[] = []
    for (let i = 2000; i < 4000; i++) {
      m.doc.resources[`MemberCard.c${i}`] = card(i)
      m.doc.generations[`MemberCard.c${i}`] = 1
      await m.persist(`MemberCard.c${i}`)
      sizes.push(statSync(journal).size)
    }
    // The file was not rewritten; each checkpoint appended one card's worth, the same at the end as at the start.
    expect(statSync(file).size).toBe(fileSize)
    const growth = (from: number, to: number) => (sizes[to - 1]! - sizes[from - 1]!) / (to - from)
    const early = growth(2, 101)
    const late = growth(1901, 2000)
    expect(late).toBeLessThan(early * 1.05)
    expect(early).toBeLessThan(1000)
    expect(sizes.at(-1)!).toBeLessThan(2000 * 1000)
    expect(fileSize).toBeGreaterThan(500 * 1000)
    const read = (await store().read())!
    expect(Object.keys(read.resources)).toHaveLength(4000)
    expect(read.serial).toBe(3 + 2000)
    await s.close()
  })
})
