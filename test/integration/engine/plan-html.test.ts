import {existsSync, readdirSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {createProject, type TestProject} from './project.js'

let p: TestProject
beforeEach(async () => {
  p = await createProject()
})
afterEach(async () => {
  await p.close()
})

describe('plan --html', () => {
  it('writes the page beside --json, whose standard output stays the plan document alone', async () => {
    const file = path.join(p.dir, 'plan.html')
    const r = await p.cli(['plan', '--json', '--html', file])
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout).summary.create).toBe(4)
    expect(r.stderr).toContain(`Wrote the visual plan to ${file}`)
    const html = readFileSync(file, 'utf8')
    expect(html.match(/<section class="change /g)).toHaveLength(4)
    // Written by rename: no temporary file is left beside it.
    expect(readdirSync(p.dir).filter((f) => f.includes('.tmp'))).toEqual([])
  })

  it('writes the page of a plan with errors too, listing them first', async () => {
    const applied = await p.cli(['apply', '--auto-approve', '--allow-irreversible'])
    expect(applied.code, applied.stdout + applied.stderr).toBe(0)
    p.edit('cards/coffee-member.yaml', 'show_bonus: true', 'show_bonus: false')
    const file = path.join(p.dir, 'errors.html')
    const r = await p.cli(['plan', '--html', file])
    expect(r.code).toBe(1)
    expect(existsSync(file)).toBe(true)
    const html = readFileSync(file, 'utf8')
    expect(html).toContain('Errors: this plan cannot be applied')
    expect(html.indexOf('Errors: this plan cannot be applied')).toBeLessThan(html.indexOf('<h2 id="changes-h">') >>> 0)
    expect(html).toContain('rights.show_bonus')
  })
})
