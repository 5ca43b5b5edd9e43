import {spawn, spawnSync} from 'node:child_process'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {packageRoot} from '../../engine/paths.js'
import {brandCards, createProject, type TestProject} from '../integration/engine/project.js'

/**
 * The progress bar on a real terminal: the built CLI runs under a pseudo-terminal made by util-linux `script` (in
 * every Debian base image), against an emulator slow enough (40 ms a call, --parallelism 2) that reading or creating
 * 60 cards takes well over the 300 ms after which a bar is drawn, and over several of cli-progress's 100 ms redraws.
 * Each card has a brand of its own, so that refresh reads each with a GET (a listing of one card is never paged),
 * one request per card, rather than three list pages.
 */
const BIN = path.join(packageRoot, 'bin/run.js')
const CARDS = 60
const ESC = /\x1b/

const hasScript = spawnSync('script', ['--version']).status === 0

function quote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`
}

/** The environment of a person at a terminal: no CI variable (whatever runs these tests may set it). */
function terminalEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {...process.env, NO_COLOR: '1', ...extra}
  if (!('CI' in extra)) delete env['CI']
  return env
}

/** Run `cardform ARGS -C DIR` with stdin, stdout and stderr on one pseudo-terminal; resolves with what it showed. */
function onTerminal(project: TestProject, args: string[], env: NodeJS.ProcessEnv): Promise<{code: number | null; screen: string}> {
  const command = [process.execPath, BIN, ...args, '-C', project.dir].map(quote).join(' ')
  return new Promise((resolve, reject) => {
    // -q: no "Script started" banner; -f: flush as it goes; -e: exit with the command's status; -c: the command.
    const child = spawn('script', ['-qfec', command, '/dev/null'], {env, stdio: ['pipe', 'pipe', 'pipe']})
    let screen = ''
    child.stdout.on('data', (b: Buffer) => (screen += b.toString()))
    child.stderr.on('data', (b: Buffer) => (screen += b.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolve({code, screen}))
  })
}

/**
 * What a terminal shows after `bytes`: enough of a VT100 for what cli-progress and readline write (cursor to column,
 * up and down, erase in line, erase below). The step lines must be whole on the screen, whatever the bar did.
 */
function screenOf(bytes: string): string[] {
  const rows: string[][] = [[]]
  let row = 0
  let col = 0
  const line = () => (rows[row] ??= [])
  const tokens = bytes.match(/\x1b\[[?\d;]*[A-Za-z]|\x1b[78]|[\s\S]/gu) ?? []
  for (const t of tokens) {
    if (t === '\r') col = 0
    else if (t === '\n') row++
    else if (t.startsWith('\x1b[')) {
      const n = Number(/\d+/.exec(t)?.[0] ?? 0)
      switch (t.at(-1)) {
        case 'G':
          col = Math.max(0, n - 1)
          break
        case 'A':
          row = Math.max(0, row - Math.max(1, n))
          break
        case 'B':
          row += Math.max(1, n)
          break
        case 'C':
          col += Math.max(1, n)
          break
        case 'D':
          col = Math.max(0, col - Math.max(1, n))
          break
        case 'K':
          if (n === 2) rows[row] = []
          else line().length = Math.min(line().length, col)
          break
        case 'J':
          line().length = Math.min(line().length, col)
          rows.length = row + 1
          break
      }
    } else if (!t.startsWith('\x1b')) {
      const l = line()
      while (l.length < col) l.push(' ')
      l[col++] = t
    }
  }
  return Array.from(rows, (r) => (r ?? []).join('').trimEnd())
}

describe.skipIf(!hasScript)('progress on a terminal', () => {
  let project: TestProject

  beforeAll(async () => {
    const brands = Array.from({length: CARDS}, (_, i) => String(1004582900 + i))
    project = await createProject({cards: brandCards(CARDS, brands), emulator: {latencyMs: 40}})
  }, 60_000)

  afterAll(async () => {
    await project?.close()
  })

  it('apply draws a bar under its step lines, which stay whole, and clears it before the summary', async () => {
    const {code, screen} = await onTerminal(project, ['apply', '--auto-approve', '--parallelism', '2'], terminalEnv())
    expect(code, screen).toBe(0)
    expect(screen).toMatch(/Applying \[[=-]+\] \d+\/60 cards \| [\d.-]+ req\/s \| ETA /)
    expect(screen).toMatch(ESC)
    // On the screen, every card's create line is whole, on a line of its own, and the bar is gone.
    const lines = screenOf(screen)
    for (let i = 0; i < CARDS; i++) {
      const no = String(i).padStart(3, '0')
      expect(lines.filter((l) => new RegExp(`^✓ BrandMemberCard\\.brand-${no}: create done \\(card [\\w-]+\\) \\d+ms$`).test(l)), lines.join('\n')).toHaveLength(1)
    }
    expect(lines.filter((l) => l.includes('Applying ['))).toEqual([])
    expect(lines).toContain('Apply complete: 60 cards changed, 0 failed.')
  }, 60_000)

  it('plan shows the refresh with cards done, requests/s and ETA, cleared before the plan text', async () => {
    const {code, screen} = await onTerminal(project, ['plan', '--parallelism', '2'], terminalEnv())
    expect(code, screen).toBe(0)
    expect(screen).toMatch(/Refreshing \[[=-]+\] \d+\/60 cards \| [\d.-]+ req\/s \| ETA [\w-]+/)
    // Somewhere after the start, a rate was known.
    expect(screen).toMatch(/Refreshing \[[=-]+\] \d+\/60 cards \| \d+(\.\d)? req\/s/)
    const lines = screenOf(screen)
    expect(lines.filter((l) => l.includes('Refreshing ['))).toEqual([])
    expect(lines.join('\n')).toContain('No changes')
    expect(screen.indexOf('No changes')).toBeGreaterThan(screen.lastIndexOf('Refreshing ['))
  }, 60_000)

  it.each([
    ['CI set', ['plan', '--parallelism', '2'], {CI: 'true'}],
    ['--no-progress', ['plan', '--parallelism', '2', '--no-progress'], {}],
    ['--json', ['plan', '--parallelism', '2', '--json'], {}],
    ['--markdown', ['plan', '--parallelism', '2', '--markdown'], {}],
  ] as const)('draws nothing on a terminal with %s', async (_, args, extra) => {
    const {code, screen} = await onTerminal(project, [...args], terminalEnv(extra))
    expect(code, screen).toBe(0)
    expect(screen).not.toMatch(ESC)
    expect(screen).not.toContain('Refreshing')
  }, 60_000)

  it('draws nothing when the output is piped: no carriage return, no escape sequence', async () => {
    const run = await project.cli(['plan', '--parallelism', '2'], {env: terminalEnv()})
    expect(run.code, run.stderr).toBe(0)
    expect(run.stderr).toBe('')
    expect(run.stdout).not.toMatch(/\r|\x1b/)
    expect(run.stdout).toContain('No changes')
  }, 60_000)
})
