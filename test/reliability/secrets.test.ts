import {readdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {dropSchema, PG_URL, randomSchema, requirePostgres, sql} from '../integration/pg.js'
import {createProject, storeCards, type CliResult, type TestProject} from '../integration/engine/project.js'

// Issue 11, experiment 7: after a realistic session (debug log on, both state backends, saved plans, failing applies,
// bad credentials, an unreachable database), no output, state, plan or table holds secret material.

const PASSWORD = 'S3cretPw'
/** The machine's pg trusts loopback, so any password connects; this one must then appear nowhere. */
const PG_URL_WITH_PASSWORD = (() => {
  const url = new URL(PG_URL)
  url.password = PASSWORD
  return url.toString()
})()

/** Everything the session produced that a person or a CI log could see, by where it came from. */
type Evidence = Map<string, string>

const projects: TestProject[] = []
const schemas: string[] = []
beforeEach(requirePostgres)
afterEach(async () => {
  await Promise.all(projects.splice(0).map((p) => p.close()))
  await Promise.all(schemas.splice(0).map(dropSchema))
})

const debug = {CARDFORM_LOG: 'debug'}

async function run(p: TestProject, evidence: Evidence, label: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const result = await p.cli(args, {env: {...debug, ...env}})
  evidence.set(`${label} (cardform ${args.join(' ')}): stdout`, result.stdout)
  evidence.set(`${label} (cardform ${args.join(' ')}): stderr`, result.stderr)
  return result
}

/** Every file under `dir` (state, journal, backups, lock, saved plans, HTML plans), as text. */
function collectFiles(dir: string, evidence: Evidence, label: string): void {
  for (const entry of readdirSync(dir, {recursive: true, encoding: 'utf8'})) {
    const full = path.join(dir, entry)
    if (statSync(full).isFile()) evidence.set(`${label}: file ${entry}`, readFileSync(full, 'latin1'))
  }
}

/** The secrets to look for: each needle with what it is. */
function needles(p: TestProject): Array<[what: string, needle: RegExp]> {
  const key = readFileSync(p.emulator.credentials.merchant_private_key_file, 'utf8')
  const body = key.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '')
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
  return [
    ['PEM armour', /-----BEGIN/],
    ['merchant private key (a slice of its base64)', new RegExp(escape(body.slice(200, 240)))],
    ['Authorization header', /Authorization/],
    ['signature scheme', /WECHATPAY2-SHA256-RSA2048/],
    ['signature=', /signature=/],
    ['merchant serial', new RegExp(p.emulator.credentials.merchant_serial, 'i')],
    ['aggregator bearer token', new RegExp(escape(p.emulator.credentials.aggregator_token))],
    ['pg password', new RegExp(PASSWORD)],
  ]
}

function findSecrets(evidence: Evidence, looked: Array<[string, RegExp]>): string[] {
  const found: string[] = []
  for (const [where, text] of evidence) {
    for (const [what, needle] of looked) {
      const match = needle.exec(text)
      if (match) found.push(`${what} in ${where}: …${text.slice(Math.max(0, match.index - 60), match.index + 40).replace(/\n/g, '⏎')}…`)
    }
  }
  return found
}

async function dumpTables(schema: string, evidence: Evidence): Promise<void> {
  for (const table of ['states', 'journal', 'state_history', 'locks']) {
    const rows = await sql(`SELECT * FROM "${schema}".${table}`).catch((e: Error) => [{error: e.message}])
    evidence.set(`pg table ${schema}.${table}`, JSON.stringify(rows))
  }
}

describe('secrets never leave the process', () => {
  it('a session with the file backend, saved plans, injected faults and bad credentials leaves no secret anywhere', async () => {
    const evidence: Evidence = new Map()
    const p = await createProject({cards: storeCards(4), emulator: {failRate: 0.35, seed: 11}})
    projects.push(p)
    await run(p, evidence, 'validate', ['validate', '--json'])
    // Absolute paths: the CLI runs in the test's working directory, not the project's.
    await run(p, evidence, 'plan', ['plan', '--out', path.join(p.dir, 'plan.json'), '--html', path.join(p.dir, 'plan.html')])
    await run(p, evidence, 'plan json', ['plan', '--json'])
    await run(p, evidence, 'apply saved plan (faults)', ['apply', path.join(p.dir, 'plan.json')])
    await run(p, evidence, 'apply again (faults)', ['apply', '--auto-approve', '--json'])
    await run(p, evidence, 'apply to converge', ['apply', '--auto-approve'])
    await run(p, evidence, 'state list', ['state', 'list', '--json'])
    await run(p, evidence, 'state show', ['state', 'show', 'MemberCard.store-00'])
    await run(p, evidence, 'query', ['query', '--json'])
    // Bad credentials: another merchant number and another key serial than the API knows.
    const bad = path.join(p.dir, 'bad-credentials.json')
    writeFileSync(bad, JSON.stringify({...p.emulator.credentials, mchid: '1900009999', merchant_serial: '0'.repeat(39) + '1'}))
    p.edit('cardform.yaml', `credentials_file: ${p.emulator.credentialsFile}`, `credentials_file: ${bad}`)
    p.edit('cards/stores.yaml', '门店卡00', '门店卡新')
    const refused = await run(p, evidence, 'plan (bad credentials)', ['plan'])
    expect(refused.code).toBe(1)
    await run(p, evidence, 'apply (bad credentials)', ['apply', '--auto-approve', '--json'])
    collectFiles(p.dir, evidence, 'project')
    // Written by this test, not by cardform.
    evidence.delete('project: file bad-credentials.json')
    const looked = needles(p)
    looked.push(['bad merchant serial', /0{39}1/])
    expect(findSecrets(evidence, looked)).toEqual([])
    // The scan saw what it was meant to: a debug log, a state with cards, a saved plan.
    expect([...evidence.keys()].some((k) => k.endsWith('.cardform/state.json'))).toBe(true)
    expect(evidence.get('project: file plan.json')).toContain('"format_version"')
    const all = [...evidence.values()].join('\n')
    expect(all).toMatch(/attempt=\d/)
    // The faults and the refusal happened, so their error paths were scanned too.
    expect(all).toMatch(/ 500 \d+ms .*retry-in=/)
    expect(all).toMatch(/ 401 \d+ms /)
    // And the scan would have caught a leak: a header as the client builds it trips four needles.
    const header = `Authorization: WECHATPAY2-SHA256-RSA2048 mchid="1",serial_no="${p.emulator.credentials.merchant_serial}",signature="x"`
    expect(findSecrets(new Map([['probe', header]]), looked)).toHaveLength(4)
  })

  it('a session with the PostgreSQL backend and a password in the connection URL leaves it nowhere, nor in the tables', async () => {
    const evidence: Evidence = new Map()
    const schema = randomSchema()
    schemas.push(schema)
    const p = await createProject({
      cards: storeCards(3),
      backend: ['type: pg', 'connection: ${env:STATE_URL}', `schema_name: ${schema}`, 'workspace: production'],
    })
    projects.push(p)
    const env = {STATE_URL: PG_URL_WITH_PASSWORD}
    await run(p, evidence, 'plan', ['plan', '--out', path.join(p.dir, 'plan.json')], env)
    const applied = await run(p, evidence, 'apply', ['apply', path.join(p.dir, 'plan.json')], env)
    expect(applied.code, applied.stdout + applied.stderr).toBe(0)
    p.edit('cards/stores.yaml', '门店卡01', '门店卡改')
    await run(p, evidence, 'apply', ['apply', '--auto-approve', '--json'], env)
    await run(p, evidence, 'state show', ['state', 'show', 'MemberCard.store-01', '--json'], env)
    await run(p, evidence, 'state list', ['state', 'list'], env)
    // The same URL pointing at a port nothing listens on, and written literally in cardform.yaml.
    const unreachable = PG_URL_WITH_PASSWORD.replace(/:\d+\//, ':9/')
    await run(p, evidence, 'plan (pg unreachable)', ['plan'], {STATE_URL: unreachable})
    p.edit('cardform.yaml', 'connection: ${env:STATE_URL}', `connection: ${unreachable}`)
    await run(p, evidence, 'apply (pg unreachable, URL in config)', ['apply', '--auto-approve'])
    await run(p, evidence, 'validate (URL in config)', ['validate', '--json'])
    collectFiles(p.dir, evidence, 'project')
    await dumpTables(schema, evidence)
    // The config file itself holds the password now: it is the user's own file, not something cardform wrote.
    evidence.delete('project: file cardform.yaml')
    expect(findSecrets(evidence, needles(p))).toEqual([])
    expect(evidence.get(`pg table ${schema}.states`)).toContain('MemberCard.store-01')
  })
})
