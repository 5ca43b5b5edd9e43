import {existsSync} from 'node:fs'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {createProject, type TestProject} from '../integration/engine/project.js'

/** `plan --markdown` through the built CLI: the marker names the project, the limit picks the tier, never a cut. */
describe('cardform plan --markdown --markdown-limit', () => {
  let project: TestProject
  beforeAll(async () => {
    project = await createProject()
  })
  afterAll(async () => {
    await project.close()
  })

  it('by default prints the full plan, its marker naming -C DIR relative to the working directory', async () => {
    const r = await project.cli(['plan', '--markdown'], {cwd: path.dirname(project.dir)})
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout.split('\n')[0]).toBe(`<!-- cardform:plan project=${path.basename(project.dir)} -->`)
    expect(r.stdout).toContain('<details><summary><code>+ MemberCard.coffee-member will be created')
    expect(r.stdout).not.toContain('Left out')
  })

  it('under a small limit prints a shorter tier that says what it left out, and still saves the plan', async () => {
    const out = path.join(project.dir, 'plan.json')
    const r = await project.cli(['plan', '--markdown', '--markdown-limit', '1500', '--out', out, '--detailed-exitcode'])
    expect(r.code).toBe(2)
    expect(r.stdout.trimEnd().length).toBeLessThanOrEqual(1500)
    expect(r.stdout).toMatch(/^<!-- cardform:plan project=[^\n]+ -->\n## cardform plan\n/)
    expect(r.stdout).toContain(', to keep this comment within 1,500 characters. Left out: ')
    expect(existsSync(out)).toBe(true)
  })

  it('prints nothing and exits 1 when even the summary is longer than the limit', async () => {
    const r = await project.cli(['plan', '--markdown', '--markdown-limit', '100'])
    expect(r.code).toBe(1)
    expect(r.stdout).toBe('')
    expect(r.stderr).toMatch(/error\[markdown-limit-too-small\]: the plan's summary alone takes \d+ characters, more than --markdown-limit 100/)
  })

  it('refuses --markdown-limit without --markdown (a usage error)', async () => {
    const r = await project.cli(['plan', '--markdown-limit', '4000'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('--markdown')
  })
})
