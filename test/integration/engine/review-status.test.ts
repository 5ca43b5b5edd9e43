import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {createProject, type TestProject} from './project.js'

/**
 * WeChat Pay review (审核) end to end: an emulator whose reviews wait for the admin, the quickstart applied, then plan
 * and status as a pipeline would run them. The two MemberCards are reviewed; the BrandMemberCards have no review.
 */

let p: TestProject
beforeEach(async () => {
  p = await createProject({emulator: {reviewDelayMs: 'manual'}})
  const applied = await p.cli(['apply', '--auto-approve', '--allow-irreversible'])
  expect(applied.code, applied.stdout + applied.stderr).toBe(0)
})
afterEach(async () => {
  await p.close()
})

const memberCardIds = () => ['MemberCard.bookstore-reader', 'MemberCard.coffee-member'].map((a) => p.state().resources[a]!.remote_id!)

describe('review status after apply', () => {
  it('plan shows the cards in review in every output, as neither drift nor a change', async () => {
    const human = await p.cli(['plan', '--detailed-exitcode'])
    expect(human.code, human.stdout + human.stderr).toBe(0)
    expect(human.stdout).toContain('WeChat Pay review (审核; not drift, nothing to apply):')
    expect(human.stdout).toMatch(/MemberCard\.coffee-member \(card p\S+\) is in WeChat Pay review \(NOT_APPROVE\)/)
    expect(human.stdout).toContain('No changes.')
    const plan = await p.planJson()
    expect(plan.format_version).toBe('1.3')
    expect(plan.reviews?.map((r) => [r.address, r.status, r.api_status])).toEqual([
      ['MemberCard.bookstore-reader', 'in-review', 'NOT_APPROVE'],
      ['MemberCard.coffee-member', 'in-review', 'NOT_APPROVE'],
    ])
    expect(plan).toMatchObject({has_changes: false, has_drift: false, drift: []})
    const md = await p.cli(['plan', '--markdown'])
    expect(md.stdout).toMatch(/> - MemberCard\.bookstore-reader \(card p\S+\) is in WeChat Pay review/)
  })

  it('status exits 3 while in review, and --wait times out with exit 3 naming the cards', async () => {
    const now = await p.cli(['status'])
    expect(now.code, now.stdout + now.stderr).toBe(3)
    expect(now.stdout).toContain('In review: 0 approved, 2 in review, 0 failed review.')
    const waited = await p.cli(['status', '--wait', '--timeout', '600ms', '--interval', '200ms'])
    expect(waited.code, waited.stdout + waited.stderr).toBe(3)
    expect(waited.stdout).toContain('Timed out waiting for review: 0 approved, 2 in review, 0 failed review.')
    expect(waited.stdout).toMatch(/MemberCard\.bookstore-reader \(card p\S+\) is in WeChat Pay review/)
  })

  it('status --wait blocks until the cards are approved, then exits 0', async () => {
    const started = Date.now()
    const waiting = p.cli(['status', '--wait', '--timeout', '60s', '--interval', '200ms'])
    await new Promise((resolve) => setTimeout(resolve, 1_500))
    for (const id of memberCardIds()) await p.emulator.admin.review(id, {result: 'approve'})
    const done = await waiting
    expect(done.code, done.stdout + done.stderr).toBe(0)
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_500)
    expect(done.stdout).toContain('Healthy: every card is approved (2 approved, 0 in review, 0 failed review).')
    const plan = await p.planJson()
    expect(plan.reviews).toEqual([])
  })

  it('status exits 1 when a card fails review, with --wait too, and says so in JSON', async () => {
    const [bookstore, coffee] = memberCardIds()
    await p.emulator.admin.review(bookstore!, {result: 'approve'})
    await p.emulator.admin.review(coffee!, {result: 'fail', reason: '背景图不清晰'})
    const waited = await p.cli(['status', '--wait', '--timeout', '60s'])
    expect(waited.code, waited.stdout + waited.stderr).toBe(1)
    expect(waited.stdout).toMatch(/MemberCard\.coffee-member \(card p\S+\) failed WeChat Pay review \(APPROVE_FAIL\); the API gives no reason/)
    expect(waited.stdout).toContain('Review failed: 1 approved, 0 in review, 1 failed review.')
    const json = await p.cli(['status', '--json'])
    expect(json.code).toBe(1)
    const report = JSON.parse(json.stdout)
    expect(report).toMatchObject({health: 'failed', timed_out: false})
    expect(report.cards.map((c: {address: string; status: string}) => [c.address, c.status])).toEqual([
      ['MemberCard.bookstore-reader', 'approved'],
      ['MemberCard.coffee-member', 'failed'],
    ])
    const plan = await p.planJson()
    expect(plan.reviews?.map((r) => r.status)).toEqual(['failed'])
    expect(plan.has_changes).toBe(false)
  })

  it('status --target reads only the matching cards', async () => {
    const [bookstore] = memberCardIds()
    await p.emulator.admin.review(bookstore!, {result: 'approve'})
    const r = await p.cli(['status', '--target', 'MemberCard.bookstore-*'])
    expect(r.code, r.stdout + r.stderr).toBe(0)
    expect(r.stdout).not.toContain('coffee-member')
  })
})
