import {describe, expect, it} from 'vitest'
import {COMMENT_LIMITS, planMarker, renderPlanMarkdown, type PlanMarkdown} from '../../../cli/render/plan-markdown.js'
import type {Plan} from '../../../engine/model/plan.js'
import type {DesiredCard} from '../../../engine/plan/compute-plan.js'
import {appliedState, card, exampleCards, liveOf, plan, withSpec} from '../plan/helpers.js'

/**
 * The size tiers of `plan --markdown`: the richest rendering that fits the limit, each within it, each saying what it
 * left out, the irreversible and destructive callouts kept as long as the tier lists cards at all.
 */

function named(c: DesiredCard, name: string): DesiredCard {
  return {...c, name, address: `${c.kind}.${name}`}
}

/** `n` coffee cards whose description changed (a line diff each), one switching favour display on, one removed. */
function largePlan(n: number): Plan {
  const coffee = card(exampleCards(), 'coffee-member')
  const prior = Array.from({length: n}, (_, i) => named(coffee, `coffee-${String(i).padStart(3, '0')}`))
  const removed = named(coffee, 'coffee-retired')
  const state = appliedState([...prior, removed])
  const live = new Map([...prior, removed].map((c) => [c.address, liveOf(c)]))
  const desired = prior.map((c, i) =>
    withSpec(c, (s) => {
      s.description = `${s.description as string}\n${i + 4}. 本店第 ${i} 号卡的新规则。`
      if (i === 7) s.rights.show_favor = true
    }),
  )
  return plan(desired, state, live)
}

function rendered(md: PlanMarkdown): string {
  if (!md.fits) throw new Error(`expected a comment, the summary needs ${md.needed} characters`)
  return md.text
}

describe('plan --markdown size tiers', () => {
  const big = largePlan(300)
  const changed = big.changes.filter((c) => c.action !== 'no-op')

  it('the large plan is what it claims: 300 updates, one irreversible switch, one deletion', () => {
    expect(big.summary).toMatchObject({update: 300, delete: 1})
    expect(big.has_irreversible).toBe(true)
    expect(changed).toHaveLength(301)
  })

  it('a plan that fits is shown in full, starting with the marker', () => {
    const small = largePlan(3)
    const md = renderPlanMarkdown(small)
    expect(md).toMatchObject({fits: true, tier: 'full'})
    const text = rendered(md)
    expect(text.split('\n')[0]).toBe('<!-- cardform:plan project=. -->')
    expect(text).not.toContain('Left out')
    expect(text).toContain('+     4. 本店第 0 号卡的新规则。')
  })

  it('under GitHub’s 65,536 characters the large plan is compact: one line per card, callouts kept', () => {
    expect(renderPlanMarkdown(big, {limit: 0}).fits && rendered(renderPlanMarkdown(big, {limit: 0})).length).toBeGreaterThan(COMMENT_LIMITS.github)
    const md = renderPlanMarkdown(big)
    expect(md).toMatchObject({fits: true, tier: 'compact'})
    const text = rendered(md)
    expect(text.length).toBeLessThanOrEqual(COMMENT_LIMITS.github)
    expect(text.startsWith(planMarker('.') + '\n')).toBe(true)
    expect(text).toContain('> Compact view, to keep this comment within 65,536 characters. Left out: the field changes of 300 cards.')
    expect(text).toContain('`cardform plan` on this branch')
    for (const c of changed) expect(text.split('\n').filter((l) => l.includes(` ${c.address} `))).not.toHaveLength(0)
    expect(text).toContain('\n~ MemberCard.coffee-000 will be updated in place (changed in config): 1 field\n')
    expect(text).toContain('\n- MemberCard.coffee-retired will be deleted (removed from config)\n')
    expect(text).toContain('> - **MemberCard.coffee-007**: `rights.show_favor` is switched on and can never be switched off')
    expect(text).toContain('> - **MemberCard.coffee-retired** will be deleted: every member who holds card `id-coffee-retired` loses it')
    expect(text).not.toContain('本店第')
  })

  it('under Azure DevOps’ 4,000 characters it is a summary with a note of what was left out', () => {
    const md = renderPlanMarkdown(big, {limit: COMMENT_LIMITS.azureDevOps})
    expect(md).toMatchObject({fits: true, tier: 'summary'})
    const text = rendered(md)
    expect(text.length).toBeLessThanOrEqual(COMMENT_LIMITS.azureDevOps)
    expect(text.startsWith(planMarker('.') + '\n')).toBe(true)
    expect(text).toContain('**Plan: 0 to create, 300 to update, 0 to replace, 1 to delete, 0 to invalidate. 1 irreversible field change.**')
    expect(text).toContain(
      '> Summary only, to keep this comment within 4,000 characters. Left out: the list of 301 changed cards and their field changes, which changes are irreversible or destructive and 1 warning.',
    )
    expect(text).toContain('> 2 irreversible or destructive changes: read the whole plan before approving.')
    expect(text).not.toContain('coffee-000')
  })

  it('every limit gets a comment within it, or none at all: the plan is never cut', () => {
    for (const limit of [COMMENT_LIMITS.github, COMMENT_LIMITS.bitbucket, 20_000, 8_000, COMMENT_LIMITS.azureDevOps, 1_000]) {
      const md = renderPlanMarkdown(big, {limit})
      const text = rendered(md)
      expect(text.length, `limit ${limit}`).toBeLessThanOrEqual(limit)
      expect(text, `limit ${limit}`).toMatch(/, to keep this comment within [\d,]+ characters\. Left out: /)
    }
    const tooSmall = renderPlanMarkdown(big, {limit: 200})
    expect(tooSmall).toMatchObject({fits: false})
    expect(!tooSmall.fits && tooSmall.needed).toBeGreaterThan(200)
  })

  it('with no limit (0) the large plan is shown in full, in one comment', () => {
    const md = renderPlanMarkdown(big, {limit: 0})
    expect(md).toMatchObject({fits: true, tier: 'full'})
    const text = rendered(md)
    expect(text.match(/<details><summary><code>/g)).toHaveLength(301)
    expect(text).not.toContain('Left out')
  })
})

describe('the comment marker', () => {
  it('names the project, so each project of a repository keeps its own comment', () => {
    expect(planMarker()).toBe('<!-- cardform:plan project=. -->')
    expect(planMarker('cards/prod')).toBe('<!-- cardform:plan project=cards/prod -->')
    expect(renderPlanMarkdown(largePlan(1), {project: 'cards/prod'})).toMatchObject({text: expect.stringMatching(/^<!-- cardform:plan project=cards\/prod -->\n## cardform plan\n/)})
  })

  it('never lets a project name end the HTML comment early or hold a space', () => {
    const m = planMarker('team a/--> x')
    expect(m).toBe('<!-- cardform:plan project=team%20a/--%3E%20x -->')
    expect(m.indexOf('-->')).toBe(m.length - 3)
  })
})
