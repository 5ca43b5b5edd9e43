import {cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import type {StateDocument} from '../../engine/model/state.js'
import {schemasDir} from '../../engine/paths.js'
import {createAjv} from '../../engine/spec/ajv.js'
import {PgStateStore} from '../../engine/state/pg-store.js'
import {createProject, liveCards, readState, runCli, storeCards, type TestProject} from '../integration/engine/project.js'
import {fill, makeReadOnly, mountTmpfs, unfill, unmount, unmountAll} from './mounts.js'
import {createPgCluster, type PgCluster} from './pg-cluster.js'

/**
 * Issue 11, experiment 4: state and disk. Damaged state files (truncated, garbage, another schema, a future version,
 * another lineage) are refused by every command, untouched. A full disk (a small tmpfs), a read-only state directory
 * and a PostgreSQL server that goes away, each in the middle of an apply: the apply starts no new card, and its
 * summary names every card it changed at WeChat Pay that the state does not record, with card_id and
 * out_request_no, and how to recover; nothing on disk is overwritten with less. After each fault the cause is
 * removed and apply run again until it converges. Tally: tried / survived / duplicated / lost, where lost is a
 * card made but neither recorded nor reported, and duplicated a card made twice.
 */

let p: TestProject | undefined
let cluster: PgCluster | undefined
const scratch: string[] = []
afterEach(async () => {
  unmountAll()
  await p?.close()
  cluster?.destroy()
  for (const d of scratch.splice(0)) rmSync(d, {recursive: true, force: true})
  p = undefined
  cluster = undefined
})

const validateApply = createAjv().compile(JSON.parse(readFileSync(path.join(schemasDir, 'apply.schema.json'), 'utf8')) as object)

async function waitFor(what: string, done: () => boolean, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

/** Start `apply` and run `fault` once the emulator has made `n` cards; resolves with the run's output. */
async function applyWithFault(project: TestProject, args: string[], n: number, fault: () => void, env: NodeJS.ProcessEnv = {}) {
  const child = project.spawnCli(['apply', '--auto-approve', ...args], {env})
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (b: Buffer) => (stdout += b.toString()))
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()))
  let exited = false
  const exit = new Promise<number | null>((resolve) => child.on('close', (code) => ((exited = true), resolve(code))))
  await waitFor(`${n} cards`, () => project.emulator.admin.stats().cards_created >= n || exited)
  expect(exited, stdout + stderr).toBe(false)
  fault()
  const code = await exit
  return {code, stdout, stderr}
}

interface Reported {
  address: string
  remote_id: string
  out_request_no: string
}

/** The summary's `Changed at WeChat Pay but not recorded in state (N):` lines for created cards. */
function reportedInSummary(stdout: string): Reported[] {
  return [...stdout.matchAll(/^ {2}(\S+): created card (\S+) \(out_request_no (\S+)\); state has its create in progress$/gm)].map((m) => ({
    address: m[1]!,
    remote_id: m[2]!,
    out_request_no: m[3]!,
  }))
}

/**
 * Every card the emulator holds is either recorded in `state` as created with its card_id, or reported; a reported
 * card is recorded as a create in progress with the same out_request_no (so the next apply finds it again).
 */
function tally(project: TestProject, cards: number, state: StateDocument, reported: readonly Reported[]) {
  const live = liveCards(project.emulator)
  const titles = live.map((c) => c.card.title as string)
  const recordedIds = new Set(Object.values(state.resources).filter((r) => r.status === 'created').map((r) => r.remote_id))
  const reportedIds = new Set(reported.map((r) => r.remote_id))
  for (const r of reported) {
    expect(live.map((c) => c.card_id)).toContain(r.remote_id)
    expect(state.resources[r.address], r.address).toMatchObject({status: 'creating', out_request_no: r.out_request_no})
  }
  return {
    tried: cards,
    made: live.length,
    recorded: live.filter((c) => recordedIds.has(c.card_id)).length,
    reported: reported.length,
    duplicated: titles.length - new Set(titles).size,
    lost: live.filter((c) => !recordedIds.has(c.card_id) && !reportedIds.has(c.card_id)).length,
  }
}

/** Apply until it exits 0 (at most 3 runs), then check: one card per spec, state equal to live, an empty plan. */
async function converge(project: TestProject, cards: number, stateFile: string, env: NodeJS.ProcessEnv = {}, read?: () => Promise<StateDocument>) {
  let runs = 0
  for (;;) {
    runs++
    const r = await project.cli(['apply', '--auto-approve'], {env})
    if (r.code === 0) break
    expect(runs, r.stdout + r.stderr).toBeLessThan(3)
  }
  const plan = await project.cli(['plan', '--detailed-exitcode'], {env})
  expect(plan.code, plan.stdout + plan.stderr).toBe(0)
  const live = liveCards(project.emulator)
  const state = read ? await read() : readState(stateFile)
  const ids = Object.values(state.resources).map((r) => r.remote_id).sort()
  expect(ids).toEqual(live.map((c) => c.card_id).sort())
  const titles = live.map((c) => c.card.title as string)
  return {runs, survived: live.length, duplicated: titles.length - new Set(titles).size, lost: cards - new Set(titles).size, created: project.emulator.admin.stats().cards_created}
}

/** Files a failed write must not leave behind: temp files, and a lock nobody holds. */
function leftovers(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.tmp') || f.endsWith('.lock'))
}

describe('damaged state files', () => {
  it('truncated, empty, garbage, another schema, a future version, a journal of another lineage: refused by plan, apply, state list and state show, untouched', async () => {
    p = await createProject({cards: storeCards(3)})
    const first = await p.cli(['apply', '--auto-approve'])
    expect(first.code, first.stdout + first.stderr).toBe(0)
    // A second apply, so that state.json.backup holds a good earlier version to point at.
    p.edit('cards/stores.yaml', 'description: 门店会员卡 0', 'description: 门店会员卡 0（新）')
    expect((await p.cli(['apply', '--auto-approve'])).code).toBe(0)
    const good = p.read('.cardform/state.json')
    const doc = JSON.parse(good) as StateDocument
    const created = p.emulator.admin.stats().cards_created
    const cases: Array<{name: string; file?: string; journal?: string; error: RegExp}> = [
      {name: 'truncated', file: good.slice(0, Math.floor(good.length / 2)), error: /error\[state-corrupt\]: state at \.cardform\/state\.json is unreadable: not valid JSON/},
      {name: 'empty', file: '', error: /error\[state-corrupt\]: state at \.cardform\/state\.json is unreadable: not valid JSON \(Unexpected end of JSON input\)/},
      {
        name: 'garbage',
        file: '\u001b]0;pwned\u0007\u001b[2J' + Buffer.from(Array.from({length: 600}, (_, i) => (i * 131 + 7) % 256)).toString('latin1'),
        error: /error\[state-corrupt\]: state at \.cardform\/state\.json is unreadable: not valid JSON/,
      },
      {name: 'another schema', file: JSON.stringify({terraform_version: '1.5.0', resources: []}), error: /error\[state-corrupt\]: state at \.cardform\/state\.json is unreadable: does not match the state schema: \/ must have required property 'version'/},
      {name: 'a future version', file: JSON.stringify({...doc, version: 9}), error: /error\[state-version\]: state at \.cardform\/state\.json has format version 9, written by a newer cardform/},
      {
        name: 'a journal of another lineage',
        journal:
          JSON.stringify({format: 'cardform-state-journal', version: 1, lineage: 'another-lineage', base_serial: doc.serial}) +
          '\n' +
          JSON.stringify({serial: doc.serial + 1, resources: {}, generations: {}}) +
          '\n',
        error: /error\[state-corrupt\]: state at \.cardform\/state\.json is unreadable: its journal \.cardform\/state\.json\.journal belongs to lineage another-lineage/,
      },
    ]
    const commands = [['plan'], ['apply', '--auto-approve'], ['state', 'list'], ['state', 'show', 'MemberCard.store-00']]
    const results = await Promise.all(
      cases.map(async (c) => {
        const dir = mkdtempSync(path.join(tmpdir(), 'cardform-damaged-'))
        scratch.push(dir)
        cpSync(p!.dir, dir, {recursive: true})
        const stateDir = path.join(dir, '.cardform')
        if (c.file !== undefined) writeFileSync(path.join(stateDir, 'state.json'), c.file, c.name === 'garbage' ? 'latin1' : 'utf8')
        if (c.journal !== undefined) writeFileSync(path.join(stateDir, 'state.json.journal'), c.journal)
        const before = snapshot(stateDir)
        const runs = []
        for (const args of commands) runs.push({args, ...(await runCli(dir, args))})
        return {c, runs, before, after: snapshot(stateDir), leftovers: leftovers(stateDir)}
      }),
    )
    for (const {c, runs, before, after, leftovers: left} of results) {
      for (const r of runs) {
        const what = `${c.name}: ${r.args.join(' ')}`
        expect(r.code, `${what}\n${r.stdout}${r.stderr}`).toBe(1)
        expect(r.stderr, what).toMatch(c.error)
        // How to recover: the backup, named.
        expect(r.stderr, what).toContain('.cardform/state.json.backup')
        expect(r.stderr, what).toMatch(/untouched/)
        // Nothing of the file's bytes that a terminal would act on (escape sequences, bells) is echoed.
        expect(r.stderr, what).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/)
      }
      expect(after, `${c.name}: the state files are byte-for-byte as they were`).toEqual(before)
      expect(left, c.name).toEqual([])
    }
    expect(p.emulator.admin.stats().cards_created).toBe(created)
    console.log(`state and disk (damaged files): ${JSON.stringify({cases: cases.length, commands: cases.length * commands.length, refused: results.flatMap((r) => r.runs).filter((r) => r.code === 1).length, untouched: results.filter((r) => JSON.stringify(r.after) === JSON.stringify(r.before)).length})}`)
  }, 120_000)

  it('a saved plan applied to state of another lineage is refused, the state untouched', async () => {
    p = await createProject({cards: storeCards(2)})
    expect((await p.cli(['apply', '--auto-approve'])).code).toBe(0)
    p.edit('cards/stores.yaml', 'description: 门店会员卡 1', 'description: 门店会员卡 1（新）')
    expect((await p.cli(['plan', '--out', path.join(p.dir, 'plan.json')])).code).toBe(0)
    const other = {...p.state(), lineage: 'another-lineage'}
    p.write('.cardform/state.json', JSON.stringify(other, null, 2) + '\n')
    const before = snapshot(path.join(p.dir, '.cardform'))
    const r = await p.cli(['apply', path.join(p.dir, 'plan.json')])
    expect(r.code, r.stdout + r.stderr).toBe(1)
    expect(r.stdout + r.stderr).toMatch(/stale-plan.*lineage/s)
    expect(snapshot(path.join(p.dir, '.cardform'))).toEqual(before)
  }, 60_000)

  it('state.json replaced by a file of another lineage during an apply: the apply does not overwrite it', async () => {
    const cards = 12
    p = await createProject({cards: storeCards(cards), emulator: {latencyMs: 150}})
    const file = path.join(p.dir, '.cardform/state.json')
    let ours = ''
    const someoneElses = JSON.stringify({version: 1, serial: 40, lineage: 'someone-elses', cardform_version: '0.1.0', resources: {}, generations: {}}, null, 2) + '\n'
    const r = await applyWithFault(p, ['--parallelism', '2'], 3, () => {
      ours = readFileSync(file, 'utf8')
      writeFileSync(file, someoneElses)
    })
    expect(r.code, r.stdout + r.stderr).toBe(1)
    expect(r.stdout).toContain('refusing to overwrite state at .cardform/state.json: it was replaced while this run held the lock (it now holds lineage someone-elses, serial 40')
    expect(readFileSync(file, 'utf8')).toBe(someoneElses)
    expect(leftovers(path.dirname(file))).toEqual([])
    // Every card is in the journal; what it continues is the person's to put back.
    const refused = await p.cli(['plan'])
    expect(refused.stderr).toContain('belongs to lineage')
    writeFileSync(file, ours)
    const report = {tried: cards, ...(await converge(p, cards, file))}
    console.log(`state and disk (replaced mid-apply): ${JSON.stringify(report)}`)
    expect(report).toMatchObject({survived: cards, duplicated: 0, lost: 0, created: cards})
  }, 120_000)
})

describe('a full disk', () => {
  it('filled in the middle of an apply: no new card started, every card made but not recorded is listed with card_id and out_request_no; freed, a re-run converges', async () => {
    const cards = 20
    p = await createProject({cards: storeCards(cards), emulator: {latencyMs: 150}, backend: ['type: local', 'path: state/state.json']})
    const dir = path.join(p.dir, 'state')
    mountTmpfs(dir, 1024 * 1024)
    const started = Date.now()
    const r = await applyWithFault(p, ['--parallelism', '4'], 6, () => fill(dir))
    expect(r.code, r.stdout + r.stderr).toBe(1)
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
    const r = await applyWithFault(p, ['--parallelism', '4'], 6, () => makeReadOnly(dir))
    expect(r.code, r.stdout + r.stderr).toBe(1)
    // The journal was already open, so every checkpoint was recorded; folding it into state.json was not.
    expect(r.stdout).toMatch(/error\[state-io\]: the state could not be written: every change is recorded in the state's journal, but folding it into the state document failed \(the next run does it\): writing state at state\/state\.json failed: EROFS/)
    expect(r.stdout).toContain('No card was changed at WeChat Pay without being recorded in state.')
    expect(r.stdout).toMatch(/The lock could not be released \(unlocking state at state\/state\.json failed: EROFS.*\): the next run on this host takes it over/)
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
    makeReadOnly(dir)
    const ro = await p.cli(['apply', '--auto-approve'])
    expect(ro.code, ro.stdout + ro.stderr).toBe(1)
    expect(ro.stderr).toMatch(/^error\[state-io\]: locking state at state\/state\.json failed: EROFS/)
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
    const db = cluster.url
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

/** Every file in `dir` with its bytes (base64), for byte-for-byte comparisons. */
function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(
    readdirSync(dir, {withFileTypes: true})
      .filter((f) => f.isFile() && !f.name.endsWith('.lock'))
      .map((f) => f.name)
      .sort()
      .map((f) => [f, readFileSync(path.join(dir, f)).toString('base64')]),
  )
}
