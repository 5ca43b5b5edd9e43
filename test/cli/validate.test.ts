import {spawnSync} from 'node:child_process'
import {cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {pathToFileURL} from 'node:url'
import {describe, expect, it} from 'vitest'
import {createAjv} from '../../engine/spec/ajv.js'
import {packageRoot, schemasDir} from '../../engine/paths.js'
import {runMeasured} from '../reliability/measure.js'

/** Runs the built CLI (the test script builds first) without colour, from the package root. */
function cardform(...args: string[]) {
  const result = spawnSync(process.execPath, [path.join(packageRoot, 'bin/run.js'), ...args], {
    cwd: packageRoot,
    encoding: 'utf8',
    env: {...process.env, NO_COLOR: '1'},
  })
  return {status: result.status, stdout: result.stdout, stderr: result.stderr}
}

const fixture = (name: string) => path.join('test/fixtures/specs', name)

describe('cardform validate', () => {
  it('exits 0 on the quickstart example and says it is valid', () => {
    const run = cardform('validate', '-C', 'examples/quickstart')
    expect(run.stderr).toBe('')
    expect(run.stdout).toMatch(/^Valid: \d+ cards in \d+ files\.\n$/)
    expect(run.status).toBe(0)
  })

  it('runs the built code whatever NODE_ENV says: no TypeScript loader, no extra memory', () => {
    // oclif registers tsx or ts-node for an ESM CLI when NODE_ENV is "development" or "test" (a CI job or a shell may
    // set either): the quickstart took 117 MB to validate that way, 74 MB without.
    for (const NODE_ENV of ['development', 'test', 'production']) {
      const run = runMeasured(['validate', '-C', path.join(packageRoot, 'examples/quickstart')], {NODE_ENV})
      expect(run.stdout, NODE_ENV).toMatch(/^Valid: \d+ cards in \d+ files\.\n$/)
      expect(run.peakRssMb, `NODE_ENV=${NODE_ENV}: peak RSS via ${run.via}`).toBeLessThanOrEqual(95)
    }
  })

  it('exits 1 on an invalid project and lists file:line:column: error[code]: message', () => {
    const run = cardform('validate', '-C', fixture('schema-errors'))
    expect(run.status).toBe(1)
    const lines = run.stdout.trimEnd().split('\n')
    expect(lines[0]).toBe(
      'cards/bad.yaml:5:1: error[schema-required]: spec.date_information is required (found "date_informaton"; is it misspelt?)',
    )
    expect(lines).toContain(
      'cards/bad.yaml:11:10: error[schema-length]: spec.title: "超长的会员卡名称十一字" is 11 characters; the limit is 10',
    )
    expect(lines.at(-1)).toBe('Invalid: 10 errors and 0 warnings; 0 cards in 1 file passed.')
  })

  it('prints a --json document that matches schemas/diagnostics.schema.json', () => {
    const validateDocument = createAjv().compile(JSON.parse(readFileSync(path.join(schemasDir, 'diagnostics.schema.json'), 'utf8')))
    const invalid = cardform('validate', '-C', fixture('duplicate'), '--json')
    expect(invalid.status).toBe(1)
    const document = JSON.parse(invalid.stdout) as unknown
    expect(validateDocument(document), JSON.stringify(validateDocument.errors)).toBe(true)
    expect(document).toMatchObject({format_version: '1.0', valid: false, error_count: 1, warning_count: 0})
    const valid = cardform('validate', '-C', 'examples/quickstart', '--json')
    expect(valid.status).toBe(0)
    const validDocument = JSON.parse(valid.stdout) as unknown
    expect(validateDocument(validDocument)).toBe(true)
    expect(validDocument).toEqual({format_version: '1.0', valid: true, error_count: 0, warning_count: 0, diagnostics: []})
  })

  it('explains a missing cardform.yaml', () => {
    const run = cardform('validate', '-C', 'test/fixtures')
    expect(run.status).toBe(1)
    expect(run.stdout).toContain('error[config-missing]: no cardform.yaml in test/fixtures')
  })
})

describe('cardform schema', () => {
  it('lists the kinds and the document schemas without an argument', () => {
    const run = cardform('schema')
    expect(run.status).toBe(0)
    expect(run.stdout.split('\n').map((line) => line.split(' ')[0])).toEqual([
      'MemberCard', 'BrandMemberCard', 'AggregatorMemberCard', 'config', 'plan', 'apply', 'state', 'diagnostics', 'error', '',
    ])
  })

  it('prints the schema of cardform.yaml and of the documents', () => {
    for (const [name, file] of [['config', 'config.schema.json'], ['apply', 'apply.schema.json'], ['error', 'error.schema.json']]) {
      const run = cardform('schema', name!)
      expect(run.status).toBe(0)
      expect(JSON.parse(run.stdout)).toEqual(JSON.parse(readFileSync(path.join(schemasDir, file!), 'utf8')))
    }
  })

  it('copies the schemas into a project outside the repository, where spec files’ $schema lines resolve', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cardform-schemas-'))
    cpSync(path.join(packageRoot, 'examples/quickstart'), dir, {recursive: true})
    rmSync(path.join(dir, 'schemas'), {recursive: true}) // the example's own copy: --write makes it again
    const run = cardform('schema', '--write', '-C', dir)
    expect(run.status, run.stderr).toBe(0)
    expect(run.stdout).toContain('schemas/member-card.schema.json')
    expect(cardform('schema', '--write', '-C', dir).stdout).toBe('The schemas in schemas/ are up to date.\n')
    // Every spec and cardform.yaml of the example names a schema that exists from the file's own folder.
    const yamlFiles = ['cardform.yaml', ...readdirSync(path.join(dir, 'cards')).filter((f) => f.endsWith('.yaml')).map((f) => `cards/${f}`)]
    for (const file of yamlFiles) {
      const ref = /\$schema=(\S+)/.exec(readFileSync(path.join(dir, file), 'utf8'))![1]!
      expect(existsSync(path.resolve(path.dirname(path.join(dir, file)), ref)), `${file}: ${ref}`).toBe(true)
    }
  })

  it('prints the schema of a kind', () => {
    const run = cardform('schema', 'BrandMemberCard')
    expect(run.status).toBe(0)
    expect(JSON.parse(run.stdout)).toEqual(JSON.parse(readFileSync(path.join(schemasDir, 'brand-member-card.schema.json'), 'utf8')))
  })

  it('refuses an unknown kind with exit 2 and a suggestion', () => {
    const run = cardform('schema', 'MembrCard')
    expect(run.status).toBe(2)
    expect(run.stderr).toContain('unknown schema "MembrCard" (did you mean "MemberCard"?)')
  })
})

describe('cardform --version and --help', () => {
  it('prints the version', () => {
    const run = cardform('--version')
    expect(run.status).toBe(0)
    expect(run.stdout).toMatch(/^cardform\/0\.1\.0 /)
  })

  it('answers a bare --version in exactly the words oclif itself uses', () => {
    // bin/run.js answers `--version` without loading oclif; oclif's own answer comes from calling it directly.
    const script = `const {execute} = await import('@oclif/core'); await execute({dir: ${JSON.stringify(
      pathToFileURL(path.join(packageRoot, 'bin/run.js')).href,
    )}, args: ['--version']})`
    const oclif = spawnSync(process.execPath, ['--input-type=module', '-e', script], {cwd: packageRoot, encoding: 'utf8'})
    expect(oclif.status).toBe(0)
    expect(oclif.stdout).toMatch(/^cardform\/0\.1\.0 \S+-\S+ node-v\d+/)
    expect(cardform('--version').stdout).toBe(oclif.stdout)
  })

  it('documents validate with examples', () => {
    const run = cardform('validate', '--help')
    expect(run.status).toBe(0)
    expect(run.stdout).toContain('--json')
    expect(run.stdout).toContain('-C, --dir=<value>')
    expect(run.stdout).toContain('EXAMPLES')
  })
})
