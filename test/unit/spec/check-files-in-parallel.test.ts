import {cpSync, mkdtempSync, readdirSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import {checkSpecFile, type CheckedFile} from '../../../engine/spec/check-file.js'
import {checkFilesInParallel} from '../../../engine/spec/check-files-in-parallel.js'
import {LOADER_LIMITS} from '../../../engine/spec/limits.js'
import {loadProject, type Project} from '../../../engine/spec/load-project.js'
import {readSchemaSet} from '../../../engine/spec/schema-set.js'
import {createSpecValidator} from '../../../engine/spec/spec-validator.js'
import {fixturesDir} from './helpers.js'

/** Every fixture with cards, so each kind of diagnostic occurs, copied `copies` times into one project. */
const MIXED = ['astral', 'conditional', 'duplicate', 'env', 'envelope', 'hostile', 'schema-errors', 'valid', 'yaml-syntax']
const env = {CARDFORM_TEST_APPID: 'wxabcdefabcdef0123'}

function mixedProject(copies: number): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'cardform-parallel-'))
  writeFileSync(path.join(dir, 'cardform.yaml'), 'cards: cards\n')
  for (let copy = 0; copy < copies; copy++) {
    for (const fixture of MIXED) cpSync(path.join(fixturesDir, fixture, 'cards'), path.join(dir, 'cards', `${copy}`, fixture), {recursive: true})
  }
  return dir
}

/** A project as plain data, positions included, so two loads can be compared with one toEqual. */
function comparable(project: Project) {
  return {
    ...project,
    documents: project.documents.map(({positionOf, ...document}) => ({
      ...document,
      positions: [['metadata', 'name'], ['spec', 'title'], ['spec', 'brand', 'display_name'], ['spec', 'not_written', 2]].map((p) => [
        positionOf(p),
        positionOf(p, 'key'),
      ]),
    })),
  }
}

/** The project's card files as `[absolute, project-relative]` pairs, sorted as the loader sorts them. */
function cardFiles(dir: string): Array<[string, string]> {
  return readdirSync(path.join(dir, 'cards'), {recursive: true, withFileTypes: true})
    .filter((entry) => entry.isFile())
    .map((entry): [string, string] => {
      const absolute = path.join(entry.parentPath, entry.name)
      return [absolute, path.relative(dir, absolute)]
    })
    .sort(([a], [b]) => (a < b ? -1 : 1))
}

describe('checking files on worker threads', () => {
  it('gives exactly the results of checking the files one by one on this thread, in the same order', async () => {
    const dir = mixedProject(8)
    const files = cardFiles(dir)
    // More files than one batch, so both workers take several batches and the order has to be put back together.
    expect(files.length).toBeGreaterThan(100)
    const limits = {...LOADER_LIMITS, maxFileBytes: 50_000}
    const validator = createSpecValidator(readSchemaSet())
    const serial = files.map(([absolute, file]) => checkSpecFile(absolute, file, {env, limits, validator}))
    const parallel: CheckedFile[] = []
    const here = (absolute: string, file: string) => checkSpecFile(absolute, file, {env, limits, validator})
    await checkFilesInParallel(files, {env, limits, schemas: undefined}, 2, (checked) => parallel.push(checked), here)
    expect(parallel).toEqual(serial)
    expect(serial.flatMap((result) => result.diagnostics).map((d) => d.code)).toEqual(
      expect.arrayContaining(['astral-character', 'env-syntax', 'alias-limit', 'nesting-limit', 'file-too-large', 'yaml-syntax', 'unknown-kind']),
    )
  })

  it('loads a large project to the same diagnostics, documents and positions as the single-threaded loader', async () => {
    const dir = mixedProject(4)
    const serial = await loadProject(dir, {env, workers: 0})
    const parallel = await loadProject(dir, {env, workers: 2, parallelAbove: 0})
    // Each copy defines the same cards again: the first copy's are kept, every later one is a duplicate.
    expect(serial.documents.length).toBeGreaterThan(2)
    expect(serial.diagnostics.filter((d) => d.code === 'duplicate-name').length).toBeGreaterThan(10)
    expect(comparable(parallel)).toEqual(comparable(serial))
  })

  it('checks on this thread a batch too big for a worker’s heap, then goes on with a new worker: the same results', async () => {
    const dir = mixedProject(2)
    // Within the per-file limits, but each takes 100 MB or more of memory on this thread. Their names sort first: the first batches hold one file each, so the workers that run out are replaced.
    writeFileSync(path.join(dir, 'cards', '0-dense.yaml'), '{' + ','.repeat(1024 * 1024 - 3) + '}\n')
    writeFileSync(path.join(dir, 'cards', '0-dupes.yaml'), ':\n'.repeat(49_000))
    const files = cardFiles(dir)
    const validator = createSpecValidator(readSchemaSet())
    const serial = files.map(([absolute, file]) => checkSpecFile(absolute, file, {env, limits: LOADER_LIMITS, validator}))
    const checkedHere: string[] = []
    const here = (absolute: string, file: string) => {
      checkedHere.push(file)
      return checkSpecFile(absolute, file, {env, limits: LOADER_LIMITS, validator})
    }
    const parallel: CheckedFile[] = []
    await checkFilesInParallel(files, {env, limits: LOADER_LIMITS, schemas: undefined}, 2, (checked) => parallel.push(checked), here)
    // 49,000 syntax errors do not fit (the token limit stops the dense file early enough that it may).
    expect(checkedHere).toContain('cards/0-dupes.yaml')
    expect(checkedHere.every((file) => file === 'cards/0-dense.yaml' || file === 'cards/0-dupes.yaml'), checkedHere.join(' ')).toBe(true)
    expect(parallel).toEqual(serial)
    expect(serial.slice(0, 2).flatMap((result) => result.diagnostics).map((d) => d.code)).toEqual(expect.arrayContaining(['token-limit', 'diagnostic-limit']))
  })

  it('validates against the schemas it is given, not the package’s, on every worker', async () => {
    const dir = mixedProject(4)
    const schemas = readSchemaSet()
    const title = (schemas.kinds.get('MemberCard') as {definitions: {spec: {properties: {title: {maxLength: number}}}}}).definitions.spec
      .properties.title
    title.maxLength = 2
    const serial = await loadProject(dir, {env, schemas, workers: 0})
    const parallel = await loadProject(dir, {env, schemas, workers: 2, parallelAbove: 0})
    expect(parallel.diagnostics.filter((d) => d.code === 'schema-length').length).toBeGreaterThan(4)
    expect(comparable(parallel)).toEqual(comparable(serial))
  })
})
