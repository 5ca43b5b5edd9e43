import {spawn} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {pathToFileURL} from 'node:url'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {packageRoot} from '../../../engine/paths.js'
import {FileStateStore} from '../../../engine/state/file-store.js'

let dir: string
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'cardform-journal-crash-'))
})
afterEach(() => rmSync(dir, {recursive: true, force: true}))

const dist = (p: string) => pathToFileURL(path.join(packageRoot, 'dist', p)).href

/**
 * A writer in its own process (the built engine, as the CLI runs it): it reads the state and compacts a journal left
 * by the previous writer (as apply does at its start), then adds cards one checkpoint each, compacting every 25.
 * Card n's entry is a function of n. After each acknowledged checkpoint it prints `ack <cards>`, and `compacting`
 * just before a compaction, so the test can kill it there.
 */
const WRITER = `
import {FileStateStore} from '${dist('engine/state/file-store.js')}'
import {StateManager} from '${dist('engine/state/state-manager.js')}'
const store = new FileStateStore(process.argv[1], '0.0.0', 'state.json')
let doc = await store.read()
if (doc) await store.compact(doc)
doc ??= {version: 1, serial: 0, lineage: 'L1', cardform_version: '0.0.0', resources: {}, generations: {}}
const m = new StateManager(store, doc)
for (let n = Object.keys(doc.resources).length; ; n++) {
  const address = 'MemberCard.c' + n
  m.doc.resources[address] = {kind: 'MemberCard', name: 'c' + n, status: 'created', remote_id: 'p' + n, out_request_no: 'cf-' + n,
    generation: 1, applied: {title: 'card ' + n, description: 'x'.repeat(2000)}, write_only: {}, updated_at: 'then'}
  m.doc.generations[address] = 1
  await m.persist(address)
  process.stdout.write('ack ' + (n + 1) + '\\n')
  if ((n + 1) % 25 === 0) {
    process.stdout.write('compacting\\n')
    await m.compact()
  }
}
`

/** Run the writer until `stop` says so (given each line it printed), then SIGKILL it; returns the cards acknowledged. */
function runAndKill(stop: (line: string, acked: number) => number | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', WRITER, path.join(dir, 'state.json')], {stdio: ['ignore', 'pipe', 'pipe']})
    let acked = 0
    let buffered = ''
    let stderr = ''
    let killing = false
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()))
    child.stdout.on('data', (b: Buffer) => {
      buffered += b.toString()
      const lines = buffered.split('\n')
      buffered = lines.pop()!
      for (const line of lines) {
        if (line.startsWith('ack ')) acked = Number(line.slice(4))
        const delay = killing ? undefined : stop(line, acked)
        if (delay !== undefined) {
          killing = true
          setTimeout(() => child.kill('SIGKILL'), delay)
        }
      }
    })
    child.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve(acked) : reject(new Error(`writer exited ${code}: ${stderr}`))))
  })
}

describe('SIGKILL of a writer of the file journal', () => {
  it('during appends and during compactions, at random instants: the state always reads, holding every acknowledged card and nothing else', async () => {
    let acknowledged = 0
    for (let round = 0; round < 12; round++) {
      // Even rounds: kill 0-15 ms after a compaction starts (writing and syncing a file of 50-300 cards). Odd rounds:
      // kill 0-15 ms after a random checkpoint.
      const target = acknowledged + 10 + Math.floor(Math.random() * 30)
      const acked = await runAndKill((line, n) =>
        round % 2 === 0 ? (line === 'compacting' && n >= acknowledged + 10 ? Math.random() * 15 : undefined) : n >= target ? Math.random() * 15 : undefined,
      )
      const state = (await new FileStateStore(path.join(dir, 'state.json'), '0.0.0').read())!
      const cards = Object.keys(state.resources).length
      // Every acknowledged checkpoint is there; at most the one in flight at the kill is there too, whole.
      expect(cards).toBeGreaterThanOrEqual(acked)
      expect(cards).toBeLessThanOrEqual(acked + 1)
      for (let n = 0; n < cards; n++) expect(state.resources[`MemberCard.c${n}`]).toMatchObject({remote_id: `p${n}`, applied: {title: `card ${n}`}})
      expect(state.serial).toBeGreaterThanOrEqual(cards)
      acknowledged = cards
    }
  }, 120_000)
})
