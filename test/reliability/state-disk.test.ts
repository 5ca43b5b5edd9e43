import {existsSync, mkdirSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {schemasDir} from '../../engine/paths.js'
import {createAjv} from '../../engine/spec/ajv.js'
import {PgStateStore} from '../../engine/state/pg-store.js'
import {createProject, readState, storeCards, type TestProject} from '../integration/engine/project.js'
import {fill, makeReadOnly, mountTmpfs, unfill, unmount, unmountAll} from './mounts.js'
import {createPgCluster, type PgCluster} from './pg-cluster.js'
import {applyWithFault, converge, leftovers, reportedInSummary, snapshot, tally, type Reported} from './state-faults.js'

/**
 * Issue 11, experiment 4, the disk and the database (the damaged state files are in state-files.test.ts): a full disk
 * (a small tmpfs), a read-only state directory and a PostgreSQL server that goes away, each in the middle of an apply.
 * The apply starts no new card, and its summary names every card it changed at WeChat Pay that the state does not
 * record, with card_id and out_request_no, and how to recover; nothing on disk is overwritten with less. After each
 * fault the cause is removed and apply run again until it converges. Tally: tried / survived / duplicated / lost,
 * where lost is a card made but neither recorded nor reported, and duplicated a card made twice.
 */

let p: TestProject | undefined
let cluster: PgCluster | undefined
afterEach(async () => {
  unmountAll()
  await p?.close()
  cluster?.destroy()
  p = undefined
  cluster = undefined
})

const validateApply = createAjv().compile(JSON.parse(readFileSync(path.join(schemasDir, 'apply.schema.json'), 'utf8')) as object)

describe('a full disk', () => {
  it('filled in the middle of an apply: no new card started, every card made but not recorded is listed with card_id and out_request_no; freed, a re-run converges', async () => {
    const cards = 20
    p = await createProject({cards: storeCards(cards), emulator: {latencyMs: 150}, backend: ['type: local', 'path: state/state.json']})
    const dir = path.join(p.dir, 'state')
    mountTmpfs(dir, 1024 * 1024)
    const started = Date.now()
    let atFault = Buffer.alloc(0)
    const r = await applyWithFault(p, ['--parallelism', '4'], 6, () => {
      atFault = readFileSync(path.join(dir, 'state.json'))
      fill(dir)
    })
    expect(r.code, r.stdout + r.stderr).toBe(1)
    // No compaction after the failed write: state.json is the file as it was when the disk filled (the journal holds
    // the rest), never overwritten with a document missing what the failed writes carried.
    expect(readFileSync(path.join(dir, 'state.json')).equals(atFault)).toBe(true)
    expect(r.stdout).toMatch(/error\[state-io\]: the state could not be written: writing state at state\/state\.json failed: ENOSPC/)
    expect(r.stdout).toMatch(/\d+ skipped \(the state could not be written\)/)
    const reported = reportedInSummary(r.stdout)
    expect(r.stdout).toContain(`Changed at WeChat Pay but not recorded in state (${reported.length}):`)
    expect(r.stdout).toContain('To recover: make the state writable again (free space on its disk')
    expect(reported.length, r.stdout).toBeGreaterThan(0)
    // The apply stopped starting cards: far fewer than all were made.
    expect(p.emulator.admin.stats().cards_created).toBeLessThan(cards)
    expect(leftovers(dir)).toEqual([])
    const report = tally(p, cards, readState(path.join(dir, 'state.json')), reported)
    expect(report).toMatchObject({duplicated: 0, lost: 0})

    unfill(dir)
    const after = await converge(p, cards, path.join(dir, 'state.json'))
    const tallied = {...report, survived: after.survived, duplicated: after.duplicated, lost: after.lost, runs: after.runs, created: after.created, seconds: Math.round((Date.now() - started) / 100) / 10}
    console.log(`state and disk (full disk mid-apply): ${JSON.stringify(tallied)}`)
    expect(tallied).toMatchObject({survived: cards, duplicated: 0, lost: 0, created: cards})
  }, 120_000)

  it('apply --json lists the same cards in state_write_failure.unrecorded', async () => {
    const cards = 12
    p = await createProject({cards: storeCards(cards), emulator: {latencyMs: 150}, backend: ['type: local', 'path: state/state.json']})
    const dir = path.join(p.dir, 'state')
    mountTmpfs(dir, 1024 * 1024)
    const r = await applyWithFault(p, ['--parallelism', '4', '--json'], 4, () => fill(dir))
    expect(r.code, r.stdout + r.stderr).toBe(1)
    const document = JSON.parse(r.stdout) as {status: string; state: unknown; state_write_failure: {code: string; unrecorded: Array<Reported & {change: string; recorded: string; action: string}>}}
    expect(validateApply(document), JSON.stringify(validateApply.errors)).toBe(true)
    expect(document).toMatchObject({status: 'failed', state: null, state_write_failure: {code: 'state-io'}})
    const unrecorded = document.state_write_failure.unrecorded
    expect(unrecorded.length).toBeGreaterThan(0)
    for (const u of unrecorded) expect(u).toMatchObject({action: 'create', change: 'created', recorded: 'creating'})
    const report = tally(p, cards, readState(path.join(dir, 'state.json')), unrecorded)
    expect(report).toMatchObject({duplicated: 0, lost: 0})
    unfill(dir)
    expect(await converge(p, cards, path.join(dir, 'state.json'))).toMatchObject({survived: cards, duplicated: 0, lost: 0, created: cards})
  }, 120_000)

  it('full before the apply starts: one clear error, no card made, and no lock file left to hold the next run out', async () => {
    p = await createProject({cards: storeCards(2), backend: ['type: local', 'path: state/state.json']})
    const dir = path.join(p.dir, 'state')
    mountTmpfs(dir, 64 * 1024)
    fill(dir)
    const r = await p.cli(['apply', '--auto-approve'])
    expect(r.code, r.stdout + r.stderr).toBe(1)
    expect(r.stderr).toMatch(/^error\[state-io\]: locking state at state\/state\.json failed: ENOSPC/)
    expect(p.emulator.admin.stats().cards_created).toBe(0)
    expect(leftovers(dir)).toEqual([])
    unfill(dir)
    expect(await converge(p, 2, path.join(dir, 'state.json'))).toMatchObject({survived: 2, duplicated: 0, lost: 0, created: 2})
  }, 60_000)

  it('a whole-file write with no room for it, then with room for it but not for a copy of the old file: no temp file left, the backup never cut short', async () => {
    const cards = 20
    p = await createProject({cards: storeCards(cards), backend: ['type: local', 'path: state/state.json']})
    const dir = path.join(p.dir, 'state')
    mountTmpfs(dir, 512 * 1024)
    expect((await p.cli(['apply', '--auto-approve'])).code).toBe(0)
    const before = snapshot(dir)
    expect(Object.keys(before)).toEqual(['state.json', 'state.json.backup'])
    const size = readFileSync(path.join(dir, 'state.json')).length
    const page = 4096
    const pages = (n: number) => Math.ceil(n / page) * page
    // `state mv` writes the whole file once. Room for the lock file only: the write fails, and leaves all as it was.
    fill(dir, page)
    const full = await p.cli(['state', 'mv', 'MemberCard.store-00', 'MemberCard.store-x'])
    expect(full.code, full.stdout + full.stderr).toBe(1)
    expect(full.stderr).toMatch(/^error\[state-io\]: writing state at state\/state\.json failed: ENOSPC/)
    unfill(dir)
    expect(snapshot(dir)).toEqual(before)
    // Room for the lock and the new file, not for a copy of the old one as the backup: the backup is the old file
    // whole (a hard link), never a copy cut short.
    fill(dir, page + pages(size) + page)
    const mv = await p.cli(['state', 'mv', 'MemberCard.store-00', 'MemberCard.store-x'])
    expect(mv.code, mv.stdout + mv.stderr).toBe(0)
    unfill(dir)
    const after = snapshot(dir)
    expect(Object.keys(after)).toEqual(['state.json', 'state.json.backup'])
    expect(after['state.json.backup']).toBe(before['state.json'])
    expect(Object.keys(JSON.parse(readFileSync(path.join(dir, 'state.json'), 'utf8')).resources)).toContain('MemberCard.store-x')
  }, 60_000)
})

describe('a read-only state directory', () => {
  it('made read-only in the middle of an apply: the summary says what is recorded and is not hidden by the lock that cannot be removed; writable again, a re-run converges', async () => {
    const cards = 20
    p = await createProject({cards: storeCards(cards), emulator: {latencyMs: 150}, backend: ['type: local', 'path: state/state.json']})
    const dir = path.join(p.dir, 'state')
    mkdirSync(dir)
    let denied = 'EROFS'
    const r = await applyWithFault(p, ['--parallelism', '4'], 6, () => (denied = makeReadOnly(dir)))
    expect(r.code, r.stdout + r.stderr).toBe(1)
    // The journal was already open, so every checkpoint was recorded; folding it into state.json was not.
    expect(r.stdout).toMatch(
      new RegExp(`error\\[state-io\\]: the state could not be written: every change is recorded in the state's journal, but folding it into the state document failed \\(the next run does it\\): writing state at state/state\\.json failed: ${denied}`),
    )
    expect(r.stdout).toContain('No card was changed at WeChat Pay without being recorded in state.')
    expect(r.stdout).toMatch(new RegExp(`The lock could not be released \\(unlocking state at state/state\\.json failed: ${denied}.*\\): the next run on this host takes it over`))
    const report = tally(p, cards, readState(path.join(dir, 'state.json')), [])
    expect(report).toMatchObject({recorded: report.made, duplicated: 0, lost: 0})
    unmount(dir)
    expect(leftovers(dir).filter((f) => f.endsWith('.tmp'))).toEqual([])
    const after = await converge(p, cards, path.join(dir, 'state.json'))
    console.log(`state and disk (read-only mid-apply): ${JSON.stringify({...report, ...after})}`)
    expect(after).toMatchObject({survived: cards, duplicated: 0, lost: 0, created: cards})
    expect(existsSync(path.join(dir, 'state.json.journal'))).toBe(false)

    // Read-only before an apply starts: refused at the lock, nothing changed, the state untouched.
    p.edit('cards/stores.yaml', 'description: 门店会员卡 5', 'description: 门店会员卡 5（新）')
    const before = snapshot(dir)
    denied = makeReadOnly(dir)
    const ro = await p.cli(['apply', '--auto-approve'])
    expect(ro.code, ro.stdout + ro.stderr).toBe(1)
    expect(ro.stderr).toMatch(new RegExp(`^error\\[state-io\\]: locking state at state/state\\.json failed: ${denied}`))
    unmount(dir)
    expect(snapshot(dir)).toEqual(before)
    expect((await converge(p, cards, path.join(dir, 'state.json'))).created).toBe(cards)
  }, 120_000)
})

describe('the PostgreSQL server going away', () => {
  it('stopped in the middle of an apply: the cards made but not recorded are listed; restarted, a re-run converges', async () => {
    const cards = 20
    let t = Date.now()
    cluster = await createPgCluster()
    const clusterStart = Date.now() - t
    // The cluster trusts loopback, so any password connects; the one in the URL must appear in no output (experiment 7
    // for this failure path: the server going away mid-apply).
    const password = 'S3cretPw'
    const db = cluster.url.replace('postgres@', `postgres:${password}@`)
    const env = {CARDFORM_TEST_STATE_URL: db}
    p = await createProject({
      cards: storeCards(cards),
      emulator: {latencyMs: 150},
      backend: ['type: pg', 'connection: ${env:CARDFORM_TEST_STATE_URL}', 'schema_name: cardform', 'workspace: default'],
    })
    const read = async () => {
      const store = new PgStateStore({connection: db, schema: 'cardform', workspace: 'default', version: '0.0.0'})
      try {
        return (await store.read())!
      } finally {
        await store.close()
      }
    }
    const r = await applyWithFault(p, ['--parallelism', '4'], 6, () => cluster!.crash(), env)
    expect(r.code, r.stdout + r.stderr).toBe(1)
    expect(r.stdout, r.stderr).toMatch(/error\[state-backend\]: the state could not be written: write of state at pg:cardform\/default failed: PostgreSQL/)
    expect(r.stdout + r.stderr).not.toContain(password)
    const reported = reportedInSummary(r.stdout)
    expect(reported.length, r.stdout).toBeGreaterThan(0)
    expect(p.emulator.admin.stats().cards_created).toBeLessThan(cards)
    t = Date.now()
    cluster.start()
    const restart = Date.now() - t
    // A write whose commit landed while its answer was lost may record a reported card as created: never the reverse.
    const state = await read()
    const recordedAsCreated = reported.filter((c) => state.resources[c.address]?.status === 'created')
    const report = tally(p, cards, state, reported.filter((c) => !recordedAsCreated.includes(c)))
    expect(report).toMatchObject({duplicated: 0, lost: 0})
    const after = await converge(p, cards, '', env, read)
    console.log(`state and disk (pg stopped mid-apply): ${JSON.stringify({...report, ...after, clusterStartMs: clusterStart, restartMs: restart})}`)
    expect(after).toMatchObject({survived: cards, duplicated: 0, lost: 0, created: cards})
  }, 120_000)
})
