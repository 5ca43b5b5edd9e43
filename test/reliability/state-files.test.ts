import {cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import type {StateDocument} from '../../engine/model/state.js'
import {createProject, projectCli, storeCards, type TestProject} from '../integration/engine/project.js'
import {applyWithFault, converge, leftovers, snapshot} from './state-faults.js'

/**
 * Issue 11, experiment 4, the state files: truncated, empty, garbage, another schema, a future version, a journal of
 * another lineage, a saved plan of another lineage, and state.json replaced by another lineage's during an apply. Each
 * is refused with an error naming the file, what is wrong and the backup to restore from; nothing is overwritten and
 * no card is made. (The faults of the disk and the database are in state-disk.test.ts.)
 */

let p: TestProject | undefined
const scratch: string[] = []
afterEach(async () => {
  await p?.close()
  for (const d of scratch.splice(0)) rmSync(d, {recursive: true, force: true})
  p = undefined
})

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
        for (const args of commands) runs.push({args, ...(await projectCli(dir).cli(args))})
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
