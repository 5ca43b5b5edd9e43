import {spawn} from 'node:child_process'
import {cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {startEmulator, type EmulatorOptions, type RunningEmulator} from '../../../emulator/index.js'
import {packageRoot} from '../../../engine/paths.js'
import type {StateDocument} from '../../../engine/model/state.js'
import type {Plan} from '../../../engine/model/plan.js'
import {planValidatorFn} from '../../../engine/plan/saved-plan.js'
import {expect} from 'vitest'
import {stringify} from 'yaml'
import {foldJournal, parseJournalFile} from '../../../engine/state/journal.js'

export interface CliResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

export interface TestProject {
  dir: string
  emulator: RunningEmulator
  /** Run the built CLI (`node bin/run.js ARGS -C dir`), in `cwd` if given. */
  cli(args: string[], opts?: {env?: NodeJS.ProcessEnv; cwd?: string}): Promise<CliResult>
  /** Start the CLI and hand back the child, for kill tests. */
  spawnCli(args: string[], opts?: {env?: NodeJS.ProcessEnv}): ReturnType<typeof spawn>
  write(file: string, text: string): void
  read(file: string): string
  edit(file: string, from: string, to: string): void
  state(): StateDocument
  /** `plan --json ARGS`, checked against schemas/plan.schema.json. */
  planJson(args?: string[]): Promise<Plan>
  close(): Promise<void>
}

const BIN = path.join(packageRoot, 'bin/run.js')

/**
 * A temporary project talking to an emulator started in this test process over loopback, so the emulator survives
 * a CLI that is killed, and tests can change cards behind cardform's back through its admin interface.
 */
export async function createProject(
  opts: {
    cards?: 'quickstart' | Record<string, string>
    emulator?: EmulatorOptions
    extraCards?: Record<string, string>
    providerExtra?: string[]
    /** The lines of cardform.yaml's backend block (default `type: local`). */
    backend?: string[]
  } = {},
): Promise<TestProject> {
  const dir = mkdtempSync(path.join(tmpdir(), 'cardform-e2e-'))
  const emulator = await startEmulator({seed: 7, ...opts.emulator})
  const cards = opts.cards ?? 'quickstart'
  if (cards === 'quickstart') {
    cpSync(path.join(packageRoot, 'examples/quickstart/cards'), path.join(dir, 'cards'), {recursive: true})
  } else {
    mkdirSync(path.join(dir, 'cards'))
    for (const [file, text] of Object.entries(cards)) {
      mkdirSync(path.dirname(path.join(dir, 'cards', file)), {recursive: true})
      writeFileSync(path.join(dir, 'cards', file), text)
    }
  }
  for (const [file, text] of Object.entries(opts.extraCards ?? {})) writeFileSync(path.join(dir, 'cards', file), text)
  writeFileSync(
    path.join(dir, 'cardform.yaml'),
    [
      'cards: cards',
      'provider:',
      `  endpoint: ${emulator.url}`,
      `  credentials_file: ${emulator.credentialsFile}`,
      '  rate_limit: 1000',
      ...(opts.providerExtra ?? []).map((line) => `  ${line}`),
      'backend:',
      ...(opts.backend ?? ['type: local']).map((line) => `  ${line}`),
      '',
    ].join('\n'),
  )
  const {cli, spawnCli} = projectCli(dir)
  return {
    dir,
    emulator,
    cli,
    spawnCli,
    write: (file, text) => writeFileSync(path.join(dir, file), text),
    read: (file) => readFileSync(path.join(dir, file), 'utf8'),
    edit(file, from, to) {
      const full = path.join(dir, file)
      const text = readFileSync(full, 'utf8')
      if (!text.includes(from)) throw new Error(`${file} does not contain ${JSON.stringify(from)}`)
      writeFileSync(full, text.replace(from, to))
    },
    state: () => readState(path.join(dir, '.cardform/state.json')),
    async planJson(args = []) {
      const r = await cli(['plan', '--json', ...args])
      const plan = JSON.parse(r.stdout) as Plan
      const validate = planValidatorFn()
      expect(validate(plan), JSON.stringify(validate.errors)).toBe(true)
      return plan
    },
    async close() {
      await emulator.close()
      rmSync(dir, {recursive: true, force: true})
    },
  }
}

/** The built CLI run on the project in `dir` (`node bin/run.js ARGS -C dir`): to completion, or spawned for kill tests. */
export function projectCli(dir: string): Pick<TestProject, 'cli' | 'spawnCli'> {
  const run = (args: string[], env?: NodeJS.ProcessEnv, cwd?: string) =>
    spawn(process.execPath, [BIN, ...args, '-C', dir], {env: {...process.env, NO_COLOR: '1', ...env}, stdio: ['ignore', 'pipe', 'pipe'], ...(cwd ? {cwd} : {})})
  const cli = (args: string[], o?: {env?: NodeJS.ProcessEnv; cwd?: string}): Promise<CliResult> =>
    new Promise((resolve, reject) => {
      const child = run(args, o?.env, o?.cwd)
      let stdout = ''
      let stderr = ''
      child.stdout!.on('data', (b: Buffer) => (stdout += b.toString()))
      child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()))
      child.on('error', reject)
      child.on('close', (code, signal) => resolve({code, signal, stdout, stderr}))
    })
  return {cli, spawnCli: (args, o) => run(args, o?.env)}
}

/** One AggregatorMemberCard document (`store-card`) with the seed's create body as its spec. */
export const aggregatorCard = stringify({
  apiVersion: 'cardform/v1',
  kind: 'AggregatorMemberCard',
  metadata: {name: 'store-card'},
  spec: JSON.parse(readFileSync(path.join(packageRoot, 'test/fixtures/seeds/000-aggregator-create.composed.json'), 'utf8')) as object,
})

/** Live (not deleted, not invalidated) cards in the emulator. */
export function liveCards(emulator: RunningEmulator) {
  return emulator.admin.listCards().filter((c) => c.card.status !== 'DELETED' && c.card.state !== 'CARD_INVALID')
}

/** `n` distinct MemberCards in one file (titles 门店卡00…), so a duplicate shows as two live cards with one title. */
export function storeCards(n: number): Record<string, string> {
  const docs: string[] = []
  for (let i = 0; i < n; i++) {
    const no = String(i).padStart(2, '0')
    docs.push(`apiVersion: cardform/v1
kind: MemberCard
metadata:
  name: store-${no}
spec:
  appid: wx3b0c7a1e5d9f2468
  brand:
    brand_id: "1001622624"
    display_name: 悦享咖啡
  logo_url: https://wxpaylogo.qpic.cn/wxpaylogo/logo/0
  title: 门店卡${no}
  background_picture_url: https://wxpaylogo.qpic.cn/wxpaylogo/bg/0
  description: 门店会员卡 ${i}
  code_type: QRCODE
  code_mode: SYSTEM_ALLOCATE
  date_information:
    type: PERMANENT
`)
  }
  return {'stores.yaml': docs.join('---\n')}
}

/**
 * `n` distinct BrandMemberCards in one file (brand-000…), their brand_id taken round-robin from `brandIds`, so one
 * file spans several brand listings. Every fourth card is a paid one with a custom field and a fixed term, so the
 * cards differ in shape, not only in title.
 */
export function brandCards(n: number, brandIds: readonly string[] = ['1004582931']): Record<string, string> {
  const docs: string[] = []
  for (let i = 0; i < n; i++) {
    const no = String(i).padStart(3, '0')
    const paid = i % 4 === 3
    docs.push(`apiVersion: cardform/v1
kind: BrandMemberCard
metadata:
  name: brand-${no}
spec:
  brand_id: "${brandIds[i % brandIds.length]}"
  appid: wx5c2e8a0f3d7b9146
  card_type: ${paid ? 'PURCHASE' : 'NORMAL'}
  card_title: 健身卡${no}
  card_color: "#1E88E5"
  card_picture_url: https://wxpaylogo.qpic.cn/wxpaylogo/card/${i}
  code_mode: ${paid ? 'MERCHANT_ALLOCATE' : 'SYSTEM_ALLOCATE'}
  code_type: QR_CODE
  benefits: 团课九折 ${i}
  notify_url: https://api.dongli-fitness.example.cn/wxpay/card-notify
  valid_date_information:
${paid ? '    type: FIX_TERM\n    available_day_after_receive: 365' : '    type: PERMANENT'}
  member_information:
    jump_appid: wx5c2e8a0f3d7b9146
    jump_path: /pages/member/index
${
  paid
    ? `  purchase_information:
    price: ${10000 + i}
    jump_appid: wx5c2e8a0f3d7b9146
    jump_path: /pages/member/buy
  user_information:
    common_field_list: [USER_FORM_FLAG_NAME]
    custom_field_list:
      - type: RADIO
        name: 常去门店
        values: [一店, 二店]
`
    : ''
}`)
  }
  return {'brands.yaml': docs.join('---\n')}
}

/**
 * The state as cardform reads it, even while an apply runs: the file with its journal (`state.json.journal`) folded
 * in. A journal continuing a newer file than the one read means a compaction ran between the two reads: read again.
 */
export function readState(file: string): StateDocument {
  for (let attempt = 1; ; attempt++) {
    const doc = JSON.parse(readFileSync(file, 'utf8')) as StateDocument
    let journal: string
    try {
      journal = readFileSync(`${file}.journal`, 'utf8')
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return doc
      throw e
    }
    const {header, records} = parseJournalFile(journal, file, `${file}.journal`)
    if (header && header.base_serial > doc.serial && attempt < 5) continue
    if (header) foldJournal(doc, records, file)
    return doc
  }
}
