import {appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {CardStore, type CardRecord} from '../../emulator/store.js'

let dir: string
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'cardform-emu-store-'))
})
afterEach(() => rmSync(dir, {recursive: true, force: true}))

const logFile = () => path.join(dir, 'cards.log')
const cardsFile = () => path.join(dir, 'cards.json')
const size = (f: string) => (existsSync(f) ? statSync(f).size : 0)

function record(i: number, owner = '1900000001'): Omit<CardRecord, 'seq'> {
  return {
    family: 'membercard-open',
    card_id: `pCard${String(i).padStart(23, '0')}`,
    owner_mchid: owner,
    card: {card_id: `pCard${String(i).padStart(23, '0')}`, title: `卡${i}`, out_request_no: `req-${i}`, description: '凭会员卡享九五折。'.repeat(20)},
    create_body: JSON.stringify({out_request_no: `req-${i}`}),
  }
}

/** Insert cards i in [from, to), one flush each, as the server does for every create. */
async function insertAll(s: CardStore, from: number, to: number): Promise<void> {
  for (let i = from; i < to; i++) {
    s.insert(record(i))
    await s.flush()
  }
}

function ids(s: CardStore): string[] {
  return s.all().map((r) => r.card_id)
}

describe('the emulator card store on disk', () => {
  it('appends one log line per flush holding only the changed records; a restart replays it and folds it into cards.json', async () => {
    const s = new CardStore(dir)
    await insertAll(s, 0, 3)
    const r1 = s.get(record(1).card_id)!
    r1.card['title'] = '新卡名'
    s.touch(r1)
    await s.flush()
    expect(existsSync(cardsFile())).toBe(false)
    const lines = readFileSync(logFile(), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as {n: number; records: CardRecord[]})
    expect(lines.map((l) => [l.n, l.records.map((r) => r.card['title'])])).toEqual([
      [1, ['卡0']],
      [2, ['卡1']],
      [3, ['卡2']],
      [4, ['新卡名']],
    ])

    // No close (a kill): the next start replays the log.
    const again = new CardStore(dir)
    expect(ids(again)).toEqual(ids(s))
    expect(again.get(record(1).card_id)!.card['title']).toBe('新卡名')
    expect(again.byRequest('membercard-open', '1900000001', 'req-2')?.card_id).toBe(record(2).card_id)
    expect(existsSync(logFile())).toBe(false)
    expect((JSON.parse(readFileSync(cardsFile(), 'utf8')) as {cards: unknown[]}).cards).toHaveLength(3)
    // New records go to a new log, and the one after sees everything.
    again.insert(record(3))
    await again.flush()
    expect(readFileSync(logFile(), 'utf8').split('\n').filter(Boolean)).toHaveLength(1)
    expect(ids(new CardStore(dir))).toEqual([0, 1, 2, 3].map((i) => record(i).card_id))
  })

  it('close folds the log into cards.json and removes it', async () => {
    const s = new CardStore(dir)
    await insertAll(s, 0, 2)
    s.insert(record(2)) // not flushed yet: close flushes it
    await s.close()
    expect(existsSync(logFile())).toBe(false)
    const file = JSON.parse(readFileSync(cardsFile(), 'utf8')) as {seq: number; log_applied: number; cards: CardRecord[]}
    expect(file.cards.map((r) => r.card_id)).toEqual([0, 1, 2].map((i) => record(i).card_id))
    expect(file.seq).toBe(3)
    expect(file.log_applied).toBe(3)
  })

  it('ignores a last line cut short by a crash and refuses a damaged complete line', async () => {
    const s = new CardStore(dir)
    await insertAll(s, 0, 2)
    appendFileSync(logFile(), '{"n":3,"seq":3,"records":[{"family":"membercard-open","card_id":"pCard')
    expect(ids(new CardStore(dir))).toEqual([0, 1].map((i) => record(i).card_id))

    const t = new CardStore(dir)
    await insertAll(t, 5, 8)
    const text = readFileSync(logFile(), 'utf8').split('\n')
    text[1] = text[1]!.replace('"n":', '"n"')
    writeFileSync(logFile(), text.join('\n'))
    expect(() => new CardStore(dir)).toThrow(/cards\.log line 2 is damaged .*refusing to start/)
  })

  it('skips the lines cards.json already holds (a compaction that stopped before removing the log), keeping the request index right', async () => {
    const s = new CardStore(dir)
    await insertAll(s, 0, 2)
    const moved = s.get(record(0).card_id)!
    s.changeOwner(moved, '1900000002')
    await s.flush()
    const log = readFileSync(logFile(), 'utf8')
    await s.close()
    writeFileSync(logFile(), log)
    const again = new CardStore(dir)
    expect(ids(again)).toEqual([0, 1].map((i) => record(i).card_id))
    expect(again.byRequest('membercard-open', '1900000001', 'req-0')).toBeUndefined()
    expect(again.byRequest('membercard-open', '1900000002', 'req-0')?.card_id).toBe(record(0).card_id)
    expect(again.size).toBe(2)
  })

  it('a replayed change of owner leaves no stale request index entry', async () => {
    const s = new CardStore(dir)
    await insertAll(s, 0, 1)
    await s.close()
    const t = new CardStore(dir)
    t.changeOwner(t.get(record(0).card_id)!, '1900000009')
    await t.flush()
    const again = new CardStore(dir)
    expect(again.byRequest('membercard-open', '1900000001', 'req-0')).toBeUndefined()
    expect(again.byRequest('membercard-open', '1900000009', 'req-0')?.card_id).toBe(record(0).card_id)
  })

  it('persists a reset', async () => {
    const s = new CardStore(dir)
    await insertAll(s, 0, 3)
    s.clear()
    await s.flush()
    s.insert(record(9))
    await s.flush()
    const again = new CardStore(dir)
    expect(ids(again)).toEqual([record(9).card_id])
    again.insert(record(10))
    expect(again.all().map((r) => r.seq)).toEqual([1, 2])
  })

  it('writes bytes in proportion to the cards: a flush costs one record, and compactions grow geometrically', async () => {
    // Compaction starts at 64 KiB here (1 MiB by default), so that a few hundred cards show several.
    const s = new CardStore(dir, {compactMinBytes: 64 * 1024})
    const perRecord = Buffer.byteLength(JSON.stringify({...record(0), seq: 1}))
    let written = 0
    let previous = {log: 0, file: 0}
    let compactions = 0
    const n = 600
    for (let i = 0; i < n; i++) {
      s.insert(record(i))
      await s.flush()
      const now = {log: size(logFile()), file: size(cardsFile())}
      if (now.file !== previous.file) {
        compactions++
        written += now.file
      } else {
        // Nothing but this flush's line was written, and it holds one record.
        expect(now.log - previous.log).toBeLessThan(perRecord + 100)
      }
      previous = now
    }
    written += previous.log
    const data = n * perRecord
    expect(compactions).toBeGreaterThanOrEqual(2)
    expect(compactions).toBeLessThanOrEqual(4)
    expect(written).toBeLessThan(4 * data)
    expect(ids(new CardStore(dir))).toHaveLength(n)
  })
})

