import {spawn, type ChildProcess} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {createRandom, type Random} from '../../emulator/random.js'
import {packageRoot} from '../../engine/paths.js'
import type {CrashPoint} from '../../engine/state/test-crash.js'
import {startProxy, type LoopbackProxy} from '../integration/client/loopback-proxy.js'
import {brandCards, projectCli, readState, storeCards, type CliResult} from '../integration/engine/project.js'

/**
 * Issue 11, experiment 1, "kill anywhere": 60 cards of both families (40 MemberCards, 20 BrandMemberCards) against a
 * standalone emulator process (`cardform emulator --data DIR --latency 20 --latency-jitter 10`), restarted from its
 * data between phases. Four phases change the specs so that every kind of remote step happens: create all; PATCH
 * and rights PATCH; replacements (MemberCard: create then DELETE; BrandMemberCard: create then invalidate); removals
 * (DELETE, invalidate). In each phase apply is SIGKILLed at seeded moments, then run again until it exits 0 and
 * `plan --detailed-exitcode` exits 0, and the emulator's cards are compared with the state and the specs.
 *
 * Two ways to die. At a remote call: a loopback proxy between cardform and the emulator counts the requests that match
 * the moment's route and, at the seeded N-th, SIGKILLs the apply while that request is in flight, `before` forwarding
 * it (the emulator never sees it) or `after` the emulator answered (the change is made; cardform never hears). In
 * the middle of a state write: `CARDFORM_TEST_CRASH=POINT:N` (engine/state/test-crash.ts) makes the apply kill itself
 * half-way through its N-th journal append, or at a step of a whole-file write or of a compaction.
 */

/**
 * Where an apply is killed: a remote call (the half of its flight, the N-th matching call), the N-th journal append or
 * whole-file write of the run, or a compaction: at the `start` of a run (folding the journal a killed run left) or
 * at its `end` (folding its own journal).
 */
export type Moment =
  | {kind: RemoteKind; when: 'before' | 'after'; n: number}
  | {kind: Exclude<CrashPoint, CompactPoint>; n: number}
  | {kind: CompactPoint; of: 'start' | 'end'}

type CompactPoint = Extract<CrashPoint, `compact-${string}`>

export type RemoteKind = 'create' | 'patch' | 'rights' | 'replace-create' | 'replace-remove' | 'delete' | 'invalidate'

const MCO = '/v3/marketing/membercard-open/cards'
const BRAND = '/v3/brand/partner/card-member/cards'
const CARD = '[A-Za-z0-9_-]+'
const CARDS = `(?:${MCO}|${BRAND})`

/** The requests each remote moment counts: `METHOD path` (query string dropped). */
const ROUTES: Record<RemoteKind, RegExp> = {
  'create': new RegExp(`^POST ${CARDS}$`),
  'patch': new RegExp(`^PATCH ${CARDS}/${CARD}$`),
  'rights': new RegExp(`^PATCH ${MCO}/${CARD}/rights$`),
  'replace-create': new RegExp(`^POST ${CARDS}$`),
  'replace-remove': new RegExp(`^(?:DELETE ${MCO}/${CARD}|POST ${BRAND}/${CARD}/invalidate)$`),
  'delete': new RegExp(`^DELETE ${MCO}/${CARD}$`),
  'invalidate': new RegExp(`^POST ${BRAND}/${CARD}/invalidate$`),
}

export const STORES = 40
export const BRANDS = 20

export interface Phase {
  name: 'create' | 'update' | 'replace' | 'remove'
  /** The moments this phase kills at, in order (seeded); a compaction point comes last (only a finished apply compacts). */
  moments: Moment[]
  /** The cards' documents for this phase. */
  specs: Specs
}

interface Specs {
  stores: Map<number, string>
  brands: Map<number, string>
}

/** storeCards / brandCards as one document per card, by index. */
function baseSpecs(): Specs {
  const split = (text: string) => new Map(text.split('---\n').map((doc, i) => [i, doc] as const))
  return {stores: split(storeCards(STORES)['stores.yaml']!), brands: split(brandCards(BRANDS, ['1004582931', '1004582932'])['brands.yaml']!)}
}

function edit(docs: Map<number, string>, pick: (i: number) => boolean, change: (doc: string, i: number) => string): void {
  for (const [i, doc] of docs) {
    if (!pick(i)) continue
    const changed = change(doc, i)
    if (changed === doc) throw new Error(`kill-anywhere: the edit of card ${i} changed nothing`)
    docs.set(i, changed)
  }
}

const rights = (i: number, staff: string) => `  rights:
    show_bonus: false
    show_favor: false
    show_guide: true
    guide:
      staff_name: ${staff}${i}
`

/**
 * The specs of each phase, each built on the previous one. update: 20 MemberCard PATCHes, 14 rights PATCHes, 10
 * BrandMemberCard PATCHes. replace: 10 MemberCards (brand is immutable) and 5 BrandMemberCards (code_type is), and 13
 * more rights PATCHes. remove: 26 MemberCards deleted and 15 BrandMemberCards invalidated (19 cards stay).
 */
function phaseSpecs(): Record<Phase['name'], Specs> {
  const create = baseSpecs()
  const copy = (s: Specs): Specs => ({stores: new Map(s.stores), brands: new Map(s.brands)})
  const update = copy(create)
  edit(update.stores, (i) => i % 2 === 0, (doc, i) => doc.replace(`description: 门店会员卡 ${i}\n`, `description: 门店会员卡 ${i} 新版\n`))
  edit(update.stores, (i) => i % 3 === 0, (doc, i) => doc + rights(i, '店长'))
  edit(update.brands, (i) => i % 2 === 0, (doc, i) => doc.replace(`benefits: 团课九折 ${i}\n`, `benefits: 团课八折 ${i}\n`))
  const replace = copy(update)
  edit(replace.stores, (i) => i % 4 === 1, (doc) => doc.replace('display_name: 悦享咖啡\n', 'display_name: 悦享咖啡旗舰\n'))
  edit(replace.stores, (i) => i % 3 === 0 && i % 4 !== 1, (doc, i) => doc.replace(`staff_name: 店长${i}`, `staff_name: 值班经理${i}`))
  edit(replace.brands, (i) => i % 4 === 1, (doc) => doc.replace('code_type: QR_CODE\n', 'code_type: BAR_CODE\n'))
  const remove = copy(replace)
  for (const i of [...remove.stores.keys()]) if (i % 3 !== 0) remove.stores.delete(i)
  for (const i of [...remove.brands.keys()]) if (i % 4 !== 0) remove.brands.delete(i)
  return {create, update, replace, remove}
}

/** The remote moments of each phase; each is killed both before and after forwarding. */
const REMOTE: Record<Phase['name'], RemoteKind[]> = {
  create: ['create'],
  update: ['patch', 'rights'],
  replace: ['replace-create', 'replace-remove'],
  remove: ['delete', 'invalidate'],
}
/** The compaction step each phase kills at the start of a run and at the end of one: each step twice over. */
const COMPACT: Record<Phase['name'], [CompactPoint, CompactPoint]> = {
  create: ['compact-temp', 'compact-backup'],
  update: ['compact-backup', 'compact-rename'],
  replace: ['compact-rename', 'compact-temp'],
  remove: ['compact-temp', 'compact-rename'],
}
/** The largest N drawn for each remote moment: small, so that earlier kills have not done all of a phase's calls first. */
const HEADROOM: Record<RemoteKind, number> = {create: 4, patch: 3, rights: 2, 'replace-create': 3, 'replace-remove': 2, delete: 2, invalidate: 2}
const WRITE_POINTS = ['write-temp', 'write-backup', 'write-rename'] as const

/**
 * The seeded scenario, `rounds` times over in each phase: every remote moment of the phase before and after forwarding,
 * a journal append and a compaction at the start of a run, in a seeded order, then (once) a compaction at the end of
 * the run that finishes the phase's work. The project's very first checkpoint is its only whole-file write (there is
 * no state file to append to yet): the create phase starts by killing it at a seeded step.
 */
export function scenario(seed: number, rounds: number): Phase[] {
  const random = createRandom(seed)
  const specs = phaseSpecs()
  return (['create', 'update', 'replace', 'remove'] as const).map((name) => {
    const [atStart, atEnd] = COMPACT[name]
    const moments: Moment[] = []
    for (let round = 0; round < rounds; round++) {
      const remote = REMOTE[name].flatMap((kind) => (['before', 'after'] as const).map((when): Moment => ({kind, when, n: 1 + pick(random, HEADROOM[kind])})))
      moments.push(...shuffle<Moment>(random, [...remote, {kind: 'journal-append', n: 1 + pick(random, 5)}, {kind: atStart, of: 'start'}]))
    }
    // A compaction at the start needs a journal left by a kill before it.
    if ('of' in moments[0]!) moments.push(moments.shift()!)
    if (name === 'create') moments.unshift({kind: WRITE_POINTS[pick(random, WRITE_POINTS.length)]!, n: 1})
    moments.push({kind: atEnd, of: 'end'})
    return {name, moments, specs: specs[name]}
  })
}

function pick(random: Random, n: number): number {
  return Math.floor(random() * n)
}

function shuffle<T>(random: Random, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = pick(random, i + 1)
    ;[items[i], items[j]] = [items[j]!, items[i]!]
  }
  return items
}

export function describeMoment(m: Moment): string {
  if ('when' in m) return `${m.kind} (${m.when}, #${m.n})`
  return 'of' in m ? `${m.kind} (${m.of})` : `${m.kind} (#${m.n})`
}

/** The emulator as a process of its own, so it outlives the applies killed around it. */
class StandaloneEmulator {
  private child: ChildProcess | undefined
  url = ''
  credentialsFile = ''

  constructor(
    private readonly dataDir: string,
    private readonly seed: number,
  ) {}

  async start(): Promise<void> {
    const args = ['emulator', '--data', this.dataDir, '--latency', '20', '--latency-jitter', '10', '--port', '0', '--seed', String(this.seed)]
    const child = spawn(process.execPath, [path.join(packageRoot, 'bin/run.js'), ...args], {stdio: ['ignore', 'pipe', 'pipe']})
    this.child = child
    let out = ''
    let err = ''
    child.stderr!.on('data', (b: Buffer) => (err += b.toString()))
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (b: Buffer) => {
        out += b.toString()
        const url = /^emulator listening on (\S+)$/m.exec(out)?.[1]
        const credentials = /^credentials: (.+)$/m.exec(out)?.[1]
        if (url && credentials) {
          this.url = url
          this.credentialsFile = credentials
          resolve()
        }
      })
      child.on('exit', (code) => reject(new Error(`the emulator exited (${code}) before listening: ${out}${err}`)))
    })
  }

  async stop(): Promise<void> {
    const child = this.child
    if (!child || child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise((r) => child.once('exit', r))
    child.kill('SIGTERM')
    await exited
  }

  /** Every card the emulator holds, with fields GET hides (its admin route). */
  async cards(): Promise<{card_id: string; family: string; card: Record<string, unknown>}[]> {
    const res = await fetch(`${this.url}/__admin/cards`)
    if (!res.ok) throw new Error(`GET /__admin/cards: ${res.status}`)
    return (await res.json()) as {card_id: string; family: string; card: Record<string, unknown>}[]
  }
}

/** A proxy that SIGKILLs the apply at an armed moment: the N-th request matching a route, before or after forwarding. */
class KillProxy {
  private armed: {route: RegExp; n: number; when: 'before' | 'after'; kill: () => void} | undefined
  private seen = 0
  /** Indexes of requests to drop once the emulator has answered them. */
  private readonly dropAfter = new Set<number>()
  proxy!: LoopbackProxy

  async start(target: string): Promise<void> {
    this.proxy = await startProxy(
      target,
      (req, res) => {
        if (!this.dropAfter.delete(req.index)) return res
        this.fire()
        return 'reset'
      },
      (req) => {
        const a = this.armed
        if (!a || !a.route.test(`${req.method} ${req.url.split('?')[0]}`) || ++this.seen !== a.n) return 'forward'
        if (a.when === 'after') {
          this.dropAfter.add(req.index)
          return 'forward'
        }
        this.fire()
        return 'reset'
      },
    )
  }

  arm(route: RegExp, n: number, when: 'before' | 'after', kill: () => void): void {
    this.armed = {route, n, when, kill}
    this.seen = 0
  }

  disarm(): void {
    this.armed = undefined
    this.dropAfter.clear()
  }

  private fire(): void {
    const a = this.armed
    this.armed = undefined
    a?.kill()
  }
}

export interface PhaseReport {
  phase: Phase['name']
  /** Kills delivered, by moment. */
  kills: string[]
  /** Armed moments the apply finished before reaching (its work was done by then). */
  missed: string[]
  /** Applies after the last kill until one exited 0. */
  runsToConverge: number
  planExit: number | null
  cards: number
  live: number
  duplicated: number
  orphans: number
  lost: number
  /** Problems found, said in words (empty when the phase converged clean). */
  problems: string[]
}

export interface KillAnywhereReport {
  seed: number
  phases: PhaseReport[]
  tried: number
  survived: number
  duplicated: number
  orphans: number
  lost: number
  byKind: Record<string, number>
  seconds: number
}

const MAX_RUNS = 5
const APPLY = ['apply', '--auto-approve', '--allow-destroy', '--parallelism', '4']
/** The applies that are killed run two cards at a time, so that each gets less of the phase's work done before it dies. */
const KILLED_APPLY = ['apply', '--auto-approve', '--allow-destroy', '--parallelism', '2']

/** Runs the scenario and reports; throws only when the harness itself fails (never for a finding). */
export async function runKillAnywhere(opts: {seed: number; rounds: number; log?: (line: string) => void}): Promise<KillAnywhereReport> {
  const started = Date.now()
  const log = opts.log ?? (() => {})
  const root = mkdtempSync(path.join(tmpdir(), 'cardform-kill-'))
  const emulator = new StandaloneEmulator(path.join(root, 'emulator'), opts.seed)
  const killer = new KillProxy()
  try {
    await emulator.start()
    await killer.start(emulator.url)
    const dir = path.join(root, 'project')
    mkdirSync(path.join(dir, 'cards'), {recursive: true})
    writeFileSync(
      path.join(dir, 'cardform.yaml'),
      ['cards: cards', 'provider:', `  endpoint: ${killer.proxy.url}`, `  credentials_file: ${emulator.credentialsFile}`, '  rate_limit: 1000', 'backend:', '  type: local', ''].join('\n'),
    )
    const {cli, spawnCli} = projectCli(dir)
    const phases: PhaseReport[] = []
    for (const phase of scenario(opts.seed, opts.rounds)) {
      writeFileSync(path.join(dir, 'cards/stores.yaml'), [...phase.specs.stores.values()].join('---\n'))
      writeFileSync(path.join(dir, 'cards/brands.yaml'), [...phase.specs.brands.values()].join('---\n'))
      const report: PhaseReport = {phase: phase.name, kills: [], missed: [], runsToConverge: 0, planExit: null, cards: 0, live: 0, duplicated: 0, orphans: 0, lost: 0, problems: []}
      const queue = [...phase.moments]
      let deferred = 0
      while (queue.length > 0) {
        const planned = queue.shift()!
        // A compaction at the start happens only when a journal is there (a kill before the first checkpoint of a
        // run leaves none): wait for a later kill to leave one. The N-th compaction of the run is counted from it.
        const journal = existsSync(path.join(dir, '.cardform/state.json.journal'))
        if ('of' in planned && planned.of === 'start' && !journal && queue.length > 1 && deferred++ < 3) {
          queue.splice(1, 0, planned)
          continue
        }
        const moment: Moment = 'of' in planned ? {kind: planned.kind, of: journal && planned.of === 'start' ? 'start' : 'end'} : planned
        const crash = 'when' in moment ? undefined : 'of' in moment ? `${moment.kind}:${moment.of === 'end' && journal ? 2 : 1}` : `${moment.kind}:${moment.n}`
        const env: NodeJS.ProcessEnv = crash ? {CARDFORM_TEST_CRASH: crash} : {}
        const child = spawnCli(KILLED_APPLY, {env})
        let output = ''
        child.stdout!.on('data', (b: Buffer) => (output += b.toString()))
        child.stderr!.on('data', (b: Buffer) => (output += b.toString()))
        const exit = new Promise<{code: number | null; signal: NodeJS.Signals | null}>((r) => child.on('close', (code, signal) => r({code, signal})))
        if ('when' in moment) killer.arm(ROUTES[moment.kind], moment.n, moment.when, () => child.kill('SIGKILL'))
        const {code, signal} = await exit
        killer.disarm()
        if (signal === 'SIGKILL') {
          report.kills.push(describeMoment(moment))
        } else {
          report.missed.push(describeMoment(moment))
          // A run that is not killed must still be a good one (it did the rest of the work).
          if (code !== 0) report.problems.push(`unkilled apply at ${describeMoment(moment)} exited ${code}: ${output.slice(-2000)}`)
        }
        log(`${phase.name}: ${describeMoment(moment)} → ${signal ?? `exit ${code}`}`)
      }
      // Restart the emulator from its data: what it made before the kills must survive that too.
      await emulator.stop()
      await emulator.start()
      killer.proxy.retarget(emulator.url)
      let last: CliResult | undefined
      for (let run = 1; run <= MAX_RUNS; run++) {
        last = await cli(APPLY)
        report.runsToConverge = run
        if (last.code === 0) break
      }
      if (last?.code !== 0) report.problems.push(`apply did not converge in ${MAX_RUNS} runs: ${(last?.stdout ?? '').slice(-2000)}${last?.stderr ?? ''}`)
      const plan = await cli(['plan', '--detailed-exitcode'])
      report.planExit = plan.code
      if (plan.code !== 0) report.problems.push(`plan --detailed-exitcode exited ${plan.code}: ${plan.stdout.slice(-2000)}${plan.stderr}`)
      Object.assign(report, await compare(phase, await emulator.cards(), dir, report.problems))
      log(`${phase.name}: ${JSON.stringify({...report, problems: report.problems.length})}`)
      phases.push(report)
    }
    const byKind: Record<string, number> = {}
    for (const k of phases.flatMap((p) => p.kills)) {
      const kind = k.replace(/ \(#\d+\)$/, '').replace(/, #\d+\)$/, ')')
      byKind[kind] = (byKind[kind] ?? 0) + 1
    }
    const sum = (f: (p: PhaseReport) => number) => phases.reduce((n, p) => n + f(p), 0)
    return {
      seed: opts.seed,
      phases,
      tried: sum((p) => p.kills.length),
      survived: sum((p) => (p.problems.length === 0 ? p.kills.length : 0)),
      duplicated: sum((p) => p.duplicated),
      orphans: sum((p) => p.orphans),
      lost: sum((p) => p.lost),
      byKind,
      seconds: Math.round((Date.now() - started) / 100) / 10,
    }
  } finally {
    await killer.proxy?.close()
    await emulator.stop()
    rmSync(root, {recursive: true, force: true})
  }
}

/**
 * Emulator vs state vs specs. A card is identified by its title (every spec has its own). Duplicated: live cards beyond
 * one per title. Orphan: a live card the state does not record (nothing wants it, and cardform would never touch
 * it). Lost: a spec without exactly one live card of its title recorded in state under its address.
 */
async function compare(
  phase: Phase,
  cards: {card_id: string; family: string; card: Record<string, unknown>}[],
  dir: string,
  problems: string[],
): Promise<Pick<PhaseReport, 'cards' | 'live' | 'duplicated' | 'orphans' | 'lost'>> {
  const live = cards.filter((c) => c.card['status'] !== 'DELETED' && c.card['state'] !== 'CARD_INVALID')
  const title = (c: (typeof live)[number]) => String(c.card['title'] ?? c.card['card_title'])
  const wanted = new Map<string, string>()
  for (const i of phase.specs.stores.keys()) wanted.set(`MemberCard.store-${String(i).padStart(2, '0')}`, `门店卡${String(i).padStart(2, '0')}`)
  for (const i of phase.specs.brands.keys()) wanted.set(`BrandMemberCard.brand-${String(i).padStart(3, '0')}`, `健身卡${String(i).padStart(3, '0')}`)
  let state
  try {
    state = readState(path.join(dir, '.cardform/state.json'))
  } catch (e) {
    problems.push(`state unreadable: ${(e as Error).message}`)
    return {cards: wanted.size, live: live.length, duplicated: 0, orphans: 0, lost: wanted.size}
  }
  const byTitle = new Map<string, number>()
  for (const c of live) byTitle.set(title(c), (byTitle.get(title(c)) ?? 0) + 1)
  const duplicated = [...byTitle.values()].reduce((n, count) => n + count - 1, 0)
  const recorded = new Set(Object.values(state.resources).flatMap((r) => (r.remote_id ? [r.remote_id] : [])))
  const orphans = live.filter((c) => !recorded.has(c.card_id))
  let lost = 0
  for (const [address, t] of wanted) {
    const entry = state.resources[address]
    const card = live.find((c) => c.card_id === entry?.remote_id)
    if (entry?.status !== 'created' || !card || title(card) !== t || byTitle.get(t) !== 1) {
      lost++
      problems.push(`lost: ${address} (state ${JSON.stringify(entry?.status)} ${entry?.remote_id}, live ${card ? title(card) : 'none'}, ${byTitle.get(t) ?? 0} live with its title)`)
    }
  }
  for (const address of Object.keys(state.resources)) if (!wanted.has(address)) problems.push(`state keeps ${address}, which no spec wants`)
  if (duplicated > 0) problems.push(`duplicated: ${[...byTitle].filter(([, n]) => n > 1).map(([t, n]) => `${t} ×${n}`).join(', ')}`)
  for (const c of orphans) problems.push(`orphan: ${c.family} ${c.card_id} ${title(c)}`)
  return {cards: wanted.size, live: live.length, duplicated, orphans: orphans.length, lost}
}
