import {readFileSync} from 'node:fs'
import path from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {createProject, type TestProject} from './project.js'

let p: TestProject | undefined
afterEach(async () => {
  await p?.close()
  p = undefined
})

/** Calls other than reads since `before` (from the emulator's admin stats). */
function writesSince(project: TestProject, before: Record<string, number>): string[] {
  const after = project.emulator.admin.stats().by_route
  return Object.keys(after).filter((k) => !k.startsWith('GET') && (after[k] ?? 0) > (before[k] ?? 0))
}

describe('state mv', () => {
  it('moves a card to its renamed spec: the next plan has no changes and no card is created or deleted', async () => {
    p = await createProject()
    expect((await p.cli(['apply', '--auto-approve', '--allow-irreversible'])).code).toBe(0)
    const before = p.state()
    const entry = before.resources['MemberCard.coffee-member']!
    const calls = p.emulator.admin.stats().by_route

    const dry = await p.cli(['state', 'mv', '--dry-run', 'MemberCard.coffee-member', 'MemberCard.coffee-gold'])
    expect(dry.code, dry.stdout + dry.stderr).toBe(0)
    expect(dry.stdout).toContain(`Would move MemberCard.coffee-member (card ${entry.remote_id}) to MemberCard.coffee-gold. Nothing was changed (--dry-run).`)
    expect(p.state()).toEqual(before)

    const mv = await p.cli(['state', 'mv', 'MemberCard.coffee-member', 'MemberCard.coffee-gold'])
    expect(mv.code, mv.stdout + mv.stderr).toBe(0)
    expect(mv.stdout).toContain(`Moved MemberCard.coffee-member (card ${entry.remote_id}) to MemberCard.coffee-gold in state; the live card was not touched.`)
    const after = p.state()
    expect(after.serial).toBe(before.serial + 1)
    expect(after.resources['MemberCard.coffee-member']).toBeUndefined()
    expect(after.resources['MemberCard.coffee-gold']).toEqual({...entry, name: 'coffee-gold'})
    expect(after.generations['MemberCard.coffee-gold']).toBe(before.generations['MemberCard.coffee-member'])

    p.edit('cards/coffee-member.yaml', 'name: coffee-member', 'name: coffee-gold')
    const plan = await p.cli(['plan', '--detailed-exitcode'])
    expect(plan.code, plan.stdout + plan.stderr).toBe(0)
    expect(plan.stdout).toContain('No changes.')
    expect(writesSince(p, calls)).toEqual([])
  })

  it('refuses a missing FROM, a taken TO, a kind change and a bad address, leaving the state untouched', async () => {
    p = await createProject()
    expect((await p.cli(['apply', '--auto-approve', '--allow-irreversible'])).code).toBe(0)
    const file = path.join(p.dir, '.cardform/state.json')
    const bytes = readFileSync(file, 'utf8')
    const cases: Array<[string[], string]> = [
      [['MemberCard.nope', 'MemberCard.other'], 'error[state-not-found]: MemberCard.nope is not in state'],
      [['MemberCard.coffee-member', 'MemberCard.bookstore-reader'], 'error[state-address-taken]: cannot move MemberCard.coffee-member to MemberCard.bookstore-reader: MemberCard.bookstore-reader is already in state'],
      [['MemberCard.coffee-member', 'BrandMemberCard.coffee-member'], 'error[state-kind-mismatch]: cannot move MemberCard.coffee-member to BrandMemberCard.coffee-member: a card cannot change kind'],
      [['MemberCard.coffee-member', 'MemberCard.Coffee_Gold'], 'error[address-invalid]: TO "MemberCard.Coffee_Gold" is not a card address'],
    ]
    for (const [args, message] of cases) {
      const r = await p.cli(['state', 'mv', ...args])
      expect(r.code, r.stdout + r.stderr).toBe(1)
      expect(r.stderr).toContain(message)
      expect(readFileSync(file, 'utf8')).toBe(bytes)
    }
    // The lock was released each time.
    expect((await p.cli(['state', 'mv', 'MemberCard.coffee-member', 'MemberCard.coffee-gold'])).code).toBe(0)
  })
})
