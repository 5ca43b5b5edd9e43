import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {afterEach, describe, expect, it} from 'vitest'
import {aggregatorCard, createProject, liveCards, type TestProject} from './project.js'

let p: TestProject | undefined
let busy: Server | undefined
afterEach(async () => {
  await p?.close()
  p = undefined
  await new Promise((r) => (busy ? busy.close(r) : r(undefined)))
  busy = undefined
})

/** An aggregator that answers every call with 429 and `Retry-After: 0`; counts the calls. */
async function busyAggregator(): Promise<{url: string; calls: () => number}> {
  let calls = 0
  busy = createServer((req, res) => {
    calls++
    req.resume()
    res.writeHead(429, {'content-type': 'application/json', 'retry-after': '0'})
    res.end(JSON.stringify({status: 429, errcode: 429, errmsg: 'too many requests'}))
  })
  await new Promise<void>((r) => busy!.listen(0, '127.0.0.1', r))
  return {url: `http://127.0.0.1:${(busy.address() as AddressInfo).port}`, calls: () => calls}
}

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

  it('an aggregator that answers 429 to every attempt: no card, no journal left, and the summary does not blame the spec', async () => {
    p = await createProject({extraCards: {'store.yaml': aggregatorCard}})
    const aggregator = await busyAggregator()
    p.edit('cardform.yaml', '  rate_limit: 1000\n', `  rate_limit: 1000\n  aggregator:\n    endpoint: ${aggregator.url}\n    token: ${p.emulator.credentials.aggregator_token}\n`)
    const first = await p.cli(['apply', '--auto-approve', '--allow-irreversible'])
    expect(first.code).toBe(1)
    expect(aggregator.calls()).toBe(5) // every attempt of the retry budget
    expect(first.stdout).toMatch(/AggregatorMemberCard\.store-card \(create, step create\): .*\[HTTP 429/)
    // Too many requests is no verdict on the spec: the way out is to run again later.
    expect(first.stdout).not.toContain('fix the spec')
    expect(first.stdout).toContain('Run apply again to retry the others')
    // No attempt reached the aggregator's create, so no card can exist: nothing stays journaled, and the next plan
    // creates the card again rather than stopping at create-outcome-unknown.
    expect(p.state().resources['AggregatorMemberCard.store-card']).toBeUndefined()
    p.edit('cardform.yaml', `endpoint: ${aggregator.url}`, `endpoint: ${p.emulator.url}`)
    const again = await p.cli(['plan', '--detailed-exitcode'])
    expect(again.code, again.stdout + again.stderr).toBe(2)
    expect(again.stdout).toContain('Plan: 1 to create, 0 to update')
    expect(again.stdout).not.toContain('create-outcome-unknown')
  })
})
