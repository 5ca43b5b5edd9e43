import {readFileSync} from 'node:fs'
import path from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {createAjv} from '../../../engine/spec/ajv.js'
import {schemasDir} from '../../../engine/paths.js'
import {aggregatorCard, createProject, liveCards, type TestProject} from './project.js'

const validateApply = createAjv().compile(JSON.parse(readFileSync(path.join(schemasDir, 'apply.schema.json'), 'utf8')))

let p: TestProject | undefined
afterEach(async () => {
  await p?.close()
  p = undefined
})

function applyDocument(stdout: string) {
  const document = JSON.parse(stdout) as Record<string, unknown>
  expect(validateApply(document), JSON.stringify(validateApply.errors)).toBe(true)
  return document
}

describe('per-environment variables and apply --json', () => {
  it('plans with --var-file, saves the values with the plan, and apply FILE --json applies them without the var file', async () => {
    p = await createProject()
    p.edit('cards/bookstore-reader.yaml', '  title: 页间读者卡', '  title: ${var.reader_title}')
    p.write('prod.yaml', 'reader_title: 页间正式卡\n')
    const missing = await p.cli(['plan'])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain('cards/bookstore-reader.yaml:13:10: error[var-missing]: spec.title: variable reader_title is not set')

    // --var-file and --out are relative to the working directory (not -C), as apply FILE is.
    const planFile = path.join(p.dir, 'plan.json')
    const planned = await p.cli(['plan', '--var-file', 'prod.yaml', '--out', 'plan.json'], {cwd: p.dir})
    expect(planned.code, planned.stderr).toBe(0)
    expect(JSON.parse(p.read('plan.json')).variables).toEqual({reader_title: '页间正式卡'})

    const applied = await p.cli(['apply', planFile, '--json'])
    expect(applied.code, applied.stderr).toBe(0)
    const document = applyDocument(applied.stdout)
    expect(document).toMatchObject({format_version: '1.1', status: 'applied', saved_plan: true, counts: {done: 4, failed: 0, skipped: 0}, refused: []})
    const cards = document.cards as Array<{address: string; status: string; remote_id?: string}>
    expect(cards.map((c) => c.status)).toEqual(['done', 'done', 'done', 'done'])
    expect(cards.every((c) => typeof c.remote_id === 'string')).toBe(true)
    expect(document.state).toEqual({serial: p.state().serial, lineage: p.state().lineage})
    expect(liveCards(p.emulator).map((c) => c.card.title ?? '')).toContain('页间正式卡')
  })

  it('reports a refusal and a card failure in the apply document', async () => {
    p = await createProject({extraCards: {'store.yaml': aggregatorCard}})
    const refused = await p.cli(['apply', '--json', '--auto-approve'])
    expect(refused.code).toBe(1)
    const refusal = applyDocument(refused.stdout)
    expect(refusal).toMatchObject({status: 'refused', cards: [], state: null})
    expect((refusal.refused as Array<{code: string}>).map((d) => d.code)).toEqual(['irreversible-unacknowledged'])

    p.edit('cardform.yaml', '  rate_limit: 1000\n', `  rate_limit: 1000\n  aggregator:\n    endpoint: ${p.emulator.url}\n    token: not-the-token\n`)
    const failed = await p.cli(['apply', '--json', '--auto-approve', '--allow-irreversible'])
    expect(failed.code).toBe(1)
    const document = applyDocument(failed.stdout)
    expect(document).toMatchObject({status: 'failed', counts: {done: 4, failed: 1, skipped: 0}})
    const card = (document.cards as Array<Record<string, unknown>>).find((c) => c.address === 'AggregatorMemberCard.store-card')
    expect(card).toMatchObject({action: 'create', status: 'failed', failed_step: 'create', failure: {status: 401, refused: true}})
    // The message says what failed and where; the status is a field of its own, not repeated in it.
    expect((card!.failure as {message: string}).message).toMatch(/^POST \/api\/customer\/user\/userCreateMemberCard failed/)
    expect((card!.failure as {message: string}).message).not.toContain('401')
  })
})
