import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import {renderPlanHuman} from '../../../cli/render/plan-human.js'
import {renderPlanMarkdown, type MarkdownTier} from '../../../cli/render/plan-markdown.js'
import {plainStyle} from '../../../cli/render/style.js'
import {packageRoot} from '../../../engine/paths.js'
import type {Plan} from '../../../engine/model/plan.js'
import {planValidatorFn} from '../../../engine/plan/saved-plan.js'
import {adoptAndLifecycle, everyAction} from './golden-plans.js'

/**
 * Golden files for everything a reviewer reads. Update them on purpose only: `UPDATE_GOLDEN=1 npx vitest run
 * test/unit/render/golden.test.ts`, then read the diff.
 */
function golden(file: string, actual: string, dir = path.join(packageRoot, 'test/golden/all-actions')): void {
  const full = path.join(dir, file)
  if (process.env.UPDATE_GOLDEN === '1') {
    mkdirSync(dir, {recursive: true})
    writeFileSync(full, actual)
  }
  expect(existsSync(full), `${file} is missing: run with UPDATE_GOLDEN=1 once`).toBe(true)
  expect(actual).toBe(readFileSync(full, 'utf8'))
}

/** The comment at the given limit, which must come out at the expected tier. */
function markdown(p: Plan, tier: MarkdownTier, limit?: number): string {
  const md = renderPlanMarkdown(p, limit === undefined ? {} : {limit})
  expect(md.fits && md.tier).toBe(tier)
  return md.fits ? md.text : ''
}

describe('golden plan output (test/golden/all-actions)', () => {
  const p = everyAction().plan

  it('lists the cards in review and failing review, never the approved ones', () => {
    expect(p.reviews?.map((r) => [r.address, r.status])).toEqual([
      ['MemberCard.coffee-member', 'failed'],
      ['MemberCard.in-sync', 'in-review'],
    ])
  })

  it('covers every action kind', () => {
    expect(new Set(p.changes.map((c) => c.action))).toEqual(new Set(['create', 'update', 'replace', 'delete', 'invalidate', 'no-op']))
    expect(p.drift.length).toBeGreaterThan(0)
    expect(p.has_irreversible).toBe(true)
  })

  it('human', () => golden('plan.txt', renderPlanHuman(p, plainStyle)))

  it('markdown', () => golden('plan.md', markdown(p, 'full')))

  it('json, valid against schemas/plan.schema.json', () => {
    const v = planValidatorFn()
    expect(v(p), JSON.stringify(v.errors)).toBe(true)
    golden('plan.json', JSON.stringify(p, null, 2) + '\n')
  })

  // The same plan under smaller limits: each tier is a golden file of its own, within its limit, and says what it left out.
  it('markdown, compact under a 3,000-character limit', () => {
    const text = markdown(p, 'compact', 3000)
    expect(text.length).toBeLessThanOrEqual(3000)
    golden('plan.compact.md', text)
  })

  it('markdown, summary only under a 1,200-character limit', () => {
    const text = markdown(p, 'summary', 1200)
    expect(text.length).toBeLessThanOrEqual(1200)
    golden('plan.summary.md', text)
  })
})

describe('golden plan output (test/golden/adopt-and-lifecycle)', () => {
  const p = adoptAndLifecycle().plan
  const dir = path.join(packageRoot, 'test/golden/adopt-and-lifecycle')

  it('covers import, move, forget, a state-only update and a skipped removal', () => {
    expect(new Set(p.changes.map((c) => c.action))).toEqual(new Set(['import', 'forget', 'no-op']))
    expect(p.changes.some((c) => c.moved_from)).toBe(true)
    expect(p.summary).toMatchObject({import: 2, forget: 1, move: 1, state_only: 1})
    expect(p.skipped?.map((s) => s.address)).toEqual(['MemberCard.retired'])
  })

  it('human', () => golden('plan.txt', renderPlanHuman(p, plainStyle), dir))
  it('markdown', () => golden('plan.md', markdown(p, 'full'), dir))
  it('json, valid against schemas/plan.schema.json', () => {
    const v = planValidatorFn()
    expect(v(p), JSON.stringify(v.errors)).toBe(true)
    golden('plan.json', JSON.stringify(p, null, 2) + '\n', dir)
  })
})
