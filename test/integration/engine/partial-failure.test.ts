import {afterEach, describe, expect, it} from 'vitest'
import {aggregatorCard, createProject, liveCards, type TestProject} from './project.js'

let p: TestProject | undefined
afterEach(async () => {
  await p?.close()
  p = undefined
})

describe('a failure on one card', () => {
  it('does not stop the others; the summary names the failure; a re-run converges', async () => {
    p = await createProject({extraCards: {'store.yaml': aggregatorCard}, providerExtra: []})
    const url = p.emulator.url
    // The aggregator API refuses a wrong bearer token; the WeChat Pay cards are unaffected.
    p.edit('cardform.yaml', '  rate_limit: 1000\n', `  rate_limit: 1000\n  aggregator:\n    endpoint: ${url}\n    token: not-the-token\n`)
    const first = await p.cli(['apply', '--auto-approve', '--allow-irreversible'])
    expect(first.code).toBe(1)
    expect(first.stdout).toContain('Failed:')
    expect(first.stdout).toMatch(/AggregatorMemberCard\.store-card \(create, step create\): POST \/api\/customer\/user\/userCreateMemberCard failed/)
    expect(first.stdout).toContain('Apply finished with errors: 4 cards changed, 1 failed.')
    expect(liveCards(p.emulator)).toHaveLength(4)
    // The API refused the create (401), so it certainly made no card: the journal entry was dropped again.
    expect(Object.keys(p.state().resources)).toHaveLength(4)
    expect(first.stdout).toMatch(/AggregatorMemberCard\.store-card .*\[HTTP 401/)

    p.edit('cardform.yaml', 'token: not-the-token', `token: ${p.emulator.credentials.aggregator_token}`)
    const again = await p.cli(['plan', '--detailed-exitcode'])
    expect(again.code).toBe(2)
    expect(again.stdout).toContain('Plan: 1 to create, 0 to update')
    const rerun = await p.cli(['apply', '--auto-approve', '--allow-irreversible'])
    expect(rerun.code, rerun.stdout + rerun.stderr).toBe(0)
    expect(rerun.stdout).toContain('Apply complete: 1 card changed, 0 failed.')
    expect((await p.cli(['plan', '--detailed-exitcode'])).code).toBe(0)
  })

  it('with --fail-fast, stops starting new cards after the first failure', async () => {
    p = await createProject({extraCards: {'store.yaml': aggregatorCard}})
    p.edit('cardform.yaml', '  rate_limit: 1000\n', `  rate_limit: 1000\n  aggregator:\n    endpoint: ${p.emulator.url}\n    token: not-the-token\n`)
    const r = await p.cli(['apply', '--auto-approve', '--allow-irreversible', '--fail-fast', '--parallelism', '1'])
    expect(r.code).toBe(1)
    // Cards are taken in address order; the aggregator card is first, so nothing else starts.
    expect(r.stdout).toContain('Apply finished with errors: 0 cards changed, 1 failed, 4 skipped (--fail-fast).')
    expect(liveCards(p.emulator)).toHaveLength(0)
  })
})
