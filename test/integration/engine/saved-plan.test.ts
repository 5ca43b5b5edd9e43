import {existsSync, readdirSync} from 'node:fs'
import path from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {createProject, type TestProject} from './project.js'

let p: TestProject | undefined
afterEach(async () => {
  await p?.close()
  p = undefined
})

describe('plan --out', () => {
  it('refuses to save a plan that has errors, and writes no file', async () => {
    p = await createProject()
    expect((await p.cli(['apply', '--auto-approve', '--allow-irreversible'])).code).toBe(0)
    p.edit('cards/coffee-member.yaml', 'need_balance: true', 'need_balance: false')
    const planFile = path.join(p.dir, 'plan.json')
    const r = await p.cli(['plan', '--out', planFile])
    expect(r.code).toBe(1)
    expect(r.stdout).toContain('error[oneway-reversal]')
    expect(r.stdout).not.toContain('Saved the plan')
    expect(r.stderr).toContain(`error[plan-has-errors]: the plan has errors; it was not saved to ${planFile}`)
    expect(existsSync(planFile)).toBe(false)
    expect(readdirSync(p.dir).filter((f) => f.startsWith('plan.json'))).toEqual([])
    // The same with --json: the plan document on standard output, the refusal on standard error.
    const json = await p.cli(['plan', '--json', '--out', planFile])
    expect(json.code).toBe(1)
    expect(JSON.parse(json.stdout)).toMatchObject({applyable: false})
    expect(json.stderr).toContain(`error[plan-has-errors]: the plan has errors; it was not saved to ${planFile}`)
    expect(existsSync(planFile)).toBe(false)
  })
})
