import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {formatPosition} from '../../engine/model/diagnostic.js'
import {emptyState} from '../../engine/model/state.js'
import {loadProject} from '../../engine/spec/load-project.js'
import {StateCorruptError} from '../../engine/state/errors.js'
import {FileStateStore} from '../../engine/state/file-store.js'
import {formatJournalHeader} from '../../engine/state/journal.js'
import {buildCase, goldCard, HOSTILE_CASES, writeManyCards} from './hostile-inputs.js'
import {runMeasured} from './measure.js'

// Issue 11, experiment 6: hostile input. The heavy variants and the figures in the README come from `npm run soak`.

const made: string[] = []
afterAll(() => made.forEach((dir) => rmSync(dir, {recursive: true, force: true})))
function project(files: Record<string, string>, config = 'cards: cards\n'): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'cardform-hostile-'))
  made.push(dir)
  mkdirSync(path.join(dir, 'cards'))
  writeFileSync(path.join(dir, 'cardform.yaml'), config)
  for (const [file, text] of Object.entries(files)) writeFileSync(path.join(dir, file), text)
  return dir
}

const polluted = () => (({}) as Record<string, unknown>)['polluted']

describe('hostile spec files', () => {
  for (const hostile of HOSTILE_CASES.filter((c) => c.fast)) {
    it(`refuses ${hostile.name} (${hostile.tries}) with a positioned diagnostic`, async () => {
      const dir = buildCase(hostile)
      made.push(dir)
      const project = await loadProject(dir, {env: {}})
      const found = project.diagnostics.map((d) => `${formatPosition(d.source)} ${d.code}`)
      for (const expected of hostile.expected) expect(found).toContain(expected)
      expect(project.diagnostics.length).toBeLessThanOrEqual(101)
      expect(polluted()).toBeUndefined()
    })
  }

  // One process per input, the way a user meets them; the cheap ones are only checked in-process above.
  const heavy = ['file-50mb', 'documents-100k', 'tokens-dense', 'errors-50k', 'binary-garbage', 'nesting-10k-block']
  it.each(heavy)('validate refuses %s in at most 200 MB of memory and exits 1', (name) => {
    const hostile = HOSTILE_CASES.find((c) => c.name === name)!
    const dir = buildCase(hostile)
    made.push(dir)
    const run = runMeasured(['validate', '-C', dir])
    expect(run.stderr).toBe('')
    expect(run.status).toBe(1)
    for (const expected of hostile.expected) {
      const [where, code] = expected.split(' ')
      expect(run.stdout).toContain(`${where}: error[${code}]`)
    }
    expect(run.peakRssMb, `peak RSS via ${run.via}`).toBeLessThanOrEqual(200)
  })

  // The scaled-down cards-100k-project of the soak. Before the loader dropped each file's text and validate its
  // documents, 20,000 cards took 280 to 325 MB (100,000 took 735 MB); now about 150 MB, and under 200 MB at 100,000.
  it('validate reads 20,000 valid cards (40 files of 500) in at most 200 MB of memory', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cardform-hostile-20k-'))
    made.push(dir)
    writeManyCards(dir, 40)
    const run = runMeasured(['validate', '-C', dir])
    expect(run.stderr).toBe('')
    expect(run.stdout).toContain('Valid: 20000 cards in 40 files.')
    expect(run.status).toBe(0)
    expect(run.peakRssMb, `peak RSS via ${run.via}`).toBeLessThanOrEqual(200)
  })

  it('accepts a file of 1,000 ordinary cards (the document limit): the token cap bounds hostile files, not real ones', async () => {
    const docs = Array.from({length: 1000}, (_, i) => goldCard.replace('name: gold', `name: store-${String(i).padStart(4, '0')}`))
    const p = await loadProject(project({'cards/all.yaml': docs.join('---\n')}), {env: {}})
    expect(p.diagnostics.map((d) => `${formatPosition(d.source)} ${d.code}: ${d.message}`)).toEqual([])
    expect(p.documents).toHaveLength(1000)
  })

  it('interpolates an environment value once, as text: no second interpolation, no YAML structure', async () => {
    const dir = project({'cards/gold.yaml': goldCard.replace('title: 金卡会员', 'title: ${env:TITLE}').replace('description: 会员卡使用说明', 'description: ${env:DESCRIPTION}')})
    const env = {TITLE: '${env:S}', DESCRIPTION: 'x\nspec: {appid: evil}\n  title: [1, 2]', S: 'never'}
    const loaded = await loadProject(dir, {env})
    expect(loaded.diagnostics).toEqual([])
    expect(loaded.documents[0]!.spec.title).toBe('${env:S}')
    expect(loaded.documents[0]!.spec.description).toBe(env.DESCRIPTION)
    expect(loaded.documents[0]!.spec.appid).toBe('wx1234567890abcdef')
  })

  it('does not read names on the prototype chain as environment variables, in the process environment or a plain copy', async () => {
    const dir = project({'cards/gold.yaml': goldCard.replace('title: 金卡会员', 'title: "${env:toString}"')})
    for (const env of [process.env, {...process.env}, {}]) {
      const loaded = await loadProject(dir, {env})
      expect(loaded.diagnostics.map((d) => `${formatPosition(d.source)} ${d.code}`)).toEqual(['cards/gold.yaml:11:10 env-missing'])
    }
  })

  it('keeps __proto__ and constructor keys as data where the schema allows any key, and pollutes nothing', async () => {
    const dir = project({'cards/gold.yaml': goldCard.replace('metadata:\n  name: gold\n', 'metadata:\n  name: gold\n  lifecycle:\n    ignore_changes: [__proto__, constructor]\n')})
    const loaded = await loadProject(dir, {env: {}})
    expect(loaded.diagnostics.map((d) => d.code)).toEqual(['ignore-changes-unknown-field', 'ignore-changes-unknown-field'])
    expect(polluted()).toBeUndefined()
  })
})

describe('hostile state files', () => {
  const entry = {
    kind: 'MemberCard',
    name: 'gold',
    status: 'created',
    remote_id: 'pCARD',
    out_request_no: 'cf-1',
    generation: 1,
    applied: {__proto__: {polluted: 1}, constructor: {prototype: {polluted: 1}}},
    write_only: {},
    updated_at: '2026-01-01T00:00:00.000Z',
  }

  function stateDir(document: unknown, journal?: string): FileStateStore {
    const dir = mkdtempSync(path.join(tmpdir(), 'cardform-hostile-state-'))
    made.push(dir)
    const file = path.join(dir, 'state.json')
    // JSON.stringify keeps an own "__proto__" key; the text is what a hostile commit would contain.
    writeFileSync(file, typeof document === 'string' ? document : JSON.stringify(document))
    if (journal !== undefined) writeFileSync(`${file}.journal`, journal)
    return new FileStateStore(file, '0.0.0', 'state.json')
  }

  it('refuses __proto__ as a card address or generation key, and keeps it as data inside a card', async () => {
    const base = emptyState('L1', '0.0.0')
    const asAddress = `{"version":${base.version},"serial":1,"lineage":"L1","cardform_version":"0.0.0","resources":{"__proto__":${JSON.stringify(entry)}},"generations":{}}`
    await expect(stateDir(asAddress).read()).rejects.toThrow('/resources key "__proto__" must match pattern')
    const asData = {...base, serial: 1, resources: {'MemberCard.gold': JSON.parse(JSON.stringify(entry).replace('"applied":{', '"applied":{"__proto__":{"polluted":1},'))}}
    const read = await stateDir(JSON.stringify(asData)).read()
    expect(Object.keys(read!.resources['MemberCard.gold']!.applied)).toContain('__proto__')
    expect(polluted()).toBeUndefined()
  })

  it('refuses a journal record whose address is __proto__ instead of changing the prototype of the resources', async () => {
    const base = {...emptyState('L1', '0.0.0'), serial: 1}
    const record = `{"serial":2,"resources":{"__proto__":${JSON.stringify(entry)}},"generations":{"__proto__":1}}\n`
    const store = stateDir(base, formatJournalHeader('L1', 1) + record)
    const error = await store.read().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(StateCorruptError)
    expect((error as Error).message).toContain('/resources key "__proto__" must match pattern')
    expect(polluted()).toBeUndefined()
  })

  it('refuses a number a double cannot hold (1e400) in the state', async () => {
    const base = emptyState('L1', '0.0.0')
    const text = JSON.stringify({...base, serial: 1}).replace('"serial":1', '"serial":1e400')
    await expect(stateDir(text).read()).rejects.toThrow(StateCorruptError)
  })
})
