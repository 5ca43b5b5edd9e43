import {spawnSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {homedir} from 'node:os'
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import {createAjv} from '../../engine/spec/ajv.js'
import {packageRoot, schemasDir} from '../../engine/paths.js'

/** Runs the built CLI (the test script builds first) without colour, on the quickstart example. */
function cardform(...args: string[]) {
  const result = spawnSync(process.execPath, [path.join(packageRoot, 'bin/run.js'), ...args, '-C', 'examples/quickstart'], {
    cwd: packageRoot,
    encoding: 'utf8',
    env: {...process.env, NO_COLOR: '1'},
  })
  return {status: result.status, stdout: result.stdout, stderr: result.stderr}
}

const validateError = createAjv().compile(JSON.parse(readFileSync(path.join(schemasDir, 'error.schema.json'), 'utf8')))

describe('a wrong command line with --json', () => {
  // The commands from issue 10, which printed oclif's whole error object (1,700 lines) and exited 1.
  it.each([
    [['plan', '--json', '--bogus'], 'unknown-flag', 'Nonexistent flag: --bogus'],
    [['plan', '--markdown', '--json'], 'flag-conflict', '--json=true cannot also be provided when using --markdown'],
    [['plan', '--json', '--parallelism', '0'], 'invalid-flag-value', 'Parsing --parallelism: Expected an integer greater than or equal to 1 but received: 0'],
    [['validate', '--json', '--bogus'], 'unknown-flag', 'Nonexistent flag: --bogus'],
    [['apply', '--json', '--bogus'], 'unknown-flag', 'Nonexistent flag: --bogus'],
    [['plan', '--json', 'extra'], 'unexpected-argument', 'Unexpected argument: extra'],
    [['apply', '--json'], 'approval-required', 'apply --json asks no questions: pass --auto-approve, or apply a saved plan (apply FILE)'],
    [['apply', 'plan.json', '--json', '--var-file', 'envs/prod.yaml'], 'saved-plan-variables', 'a saved plan holds the variable values it was made with: --var-file and --var are for plan, not apply FILE'],
  ])('%j prints one short JSON error document and exits 2', (args, code, message) => {
    const run = cardform(...args)
    expect(run.status).toBe(2)
    expect(Buffer.byteLength(run.stdout)).toBeLessThan(1024)
    const document = JSON.parse(run.stdout) as unknown
    expect(validateError(document), JSON.stringify(validateError.errors)).toBe(true)
    expect(document).toEqual({error: {code, message}})
    expect(run.stdout).not.toContain(homedir())
    expect(run.stdout).not.toContain(packageRoot)
  })

  it('still exits 2 with oclif’s usage text without --json', () => {
    const run = cardform('plan', '--bogus')
    expect(run.status).toBe(2)
    expect(run.stdout).toBe('')
    expect(run.stderr).toContain('Nonexistent flag: --bogus')
  })
})
