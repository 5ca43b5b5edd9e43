import {spawnSync} from 'node:child_process'
import {cpSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {packageRoot} from '../../engine/paths.js'

const parent = mkdtempSync(path.join(tmpdir(), 'cardform-quickstart-'))
cpSync(path.join(packageRoot, 'examples/quickstart'), path.join(parent, 'quickstart'), {recursive: true, filter: (src) => !src.includes('.cardform')})
afterAll(() => rmSync(parent, {recursive: true, force: true}))

/** The README's main job, as a user runs it: a relative -C, the embedded emulator, no credentials. */
function cardform(...args: string[]) {
  return spawnSync(process.execPath, [path.join(packageRoot, 'bin/run.js'), ...args, '-C', 'quickstart'], {
    cwd: parent,
    encoding: 'utf8',
    env: {...process.env, NO_COLOR: '1'},
  })
}

describe('quick start: plan, apply, plan on examples/quickstart with the embedded emulator', () => {
  it('plans four creates, applies them, and then has nothing left to change', () => {
    const plan = cardform('plan', '--detailed-exitcode')
    expect(plan.status, plan.stdout + plan.stderr).toBe(2)
    expect(plan.stdout).toContain('Plan: 4 to create, 0 to update, 0 to replace, 0 to delete, 0 to invalidate. 3 images to upload.')
    expect(plan.stdout).toMatch(/\+ logo_url: \(file cards\/assets\/coffee-logo\.png, sha256 [0-9a-f]{12}…, 120×120 png\) will be uploaded/)
    const apply = cardform('apply', '--auto-approve', '--allow-irreversible')
    expect(apply.status, apply.stdout + apply.stderr).toBe(0)
    expect(apply.stdout).toContain('Apply complete: 4 cards changed, 0 failed.')
    expect(apply.stdout.match(/: upload cards\/assets\/[\w-]+\.png done/g)).toHaveLength(3)
    const state = JSON.parse(readFileSync(path.join(parent, 'quickstart/.cardform/state.json'), 'utf8')) as {media?: Record<string, {file: string}>}
    expect(Object.values(state.media ?? {}).map((m) => m.file).sort()).toEqual(['cards/assets/coffee-background.png', 'cards/assets/coffee-logo.png', 'cards/assets/fitness-card.png'])
    const again = cardform('plan', '--detailed-exitcode')
    expect(again.status, again.stdout + again.stderr).toBe(0)
    expect(again.stdout).toContain('No changes.')
    // The emulator's cards survived the process that created them: they are under .cardform/emulator.
    const list = cardform('state', 'list')
    expect(list.stdout.match(/^\S+\tp[\w-]+\tcreated$/gm)).toHaveLength(4)
  })
})
