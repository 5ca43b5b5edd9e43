import {spawnSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {loadavg, tmpdir} from 'node:os'
import path from 'node:path'
import {Parser, stringify} from 'yaml'
import {packageRoot} from '../engine/paths.js'
import {loadProject} from '../engine/spec/load-project.js'
import {copyQuickstartImages, quickstartCards, rebaseImageFiles} from './quickstart-cards.js'
import type {Benchmark} from './run.js'

const FILES = 5000
const BUDGET_MS = 2000

/**
 * 5,000 card files of all three kinds, made from the quickstart cards with varied names, titles and quantities,
 * spread over 50 folders. Measured: the loader in-process (first run, which compiles the schemas, a second run,
 * then the main-thread-only and two-worker paths forced), the CLI end to end, and an ideal bound: reading and
 * YAML-parsing the same files and nothing else, which no loader can beat since it must do both.
 */
export const validateBenchmark: Benchmark = {
  name: 'validate',
  description: `loader and \`cardform validate\` over ${FILES} generated card files`,
  async run(args) {
    const count = Number(args[0] ?? FILES)
    const dir = mkdtempSync(path.join(tmpdir(), 'cardform-bench-'))
    try {
      generateProject(dir, count)

      // Ideal bound: read every file and run yaml's lexer and parser over it (the token stream), nothing else. Any
      // loader built on yaml has to do at least this. Run once first to warm the file cache and the code paths.
      const readAndParse = () => {
        for (const file of listYaml(path.join(dir, 'cards'))) for (const _ of new Parser().parse(readFileSync(file, 'utf8')));
      }
      readAndParse()
      const ideal = time(readAndParse)
      // What a user sees: `cardform validate` in a new process, 5 runs, the median (min and max printed too).
      const cliRuns = Array.from({length: 5}, () =>
        time(() => {
          const run = spawnSync(process.execPath, [path.join(packageRoot, 'bin/run.js'), 'validate', '-C', dir], {encoding: 'utf8'})
          if (run.status !== 0) throw new Error(`cardform validate failed: ${run.stdout}${run.stderr}`)
        }),
      ).sort((a, b) => a - b)
      const cli = cliRuns[2]!
      // The first call also reads and compiles the schemas; it is timed on its own.
      const last: {project?: Awaited<ReturnType<typeof loadProject>>} = {}
      const compileAndLoad = await timeAsync(async () => void (last.project = await loadProject(dir)))
      const again = await timeAsync(async () => void (last.project = await loadProject(dir)))
      // The two paths on their own, whatever the load average would choose (the default is shown above).
      const serial = await timeAsync(async () => void (await loadProject(dir, {workers: 0})))
      const parallel = await timeAsync(async () => void (await loadProject(dir, {workers: 2})))
      const project = last.project
      if (!project || project.diagnostics.length > 0 || project.documents.length !== count) {
        throw new Error(`generated project is not valid: ${project?.diagnostics.length} diagnostics, ${project?.documents.length} cards`)
      }

      const rows: Array<[string, number]> = [
        ['ideal bound: read + YAML lex/parse only', ideal],
        ['loadProject, first call', compileAndLoad],
        ['loadProject, second call', again],
        ['loadProject, main thread only', serial],
        ['loadProject, 2 worker threads', parallel],
        ['cardform validate (CLI, new process), median of 5', cli],
      ]
      process.stdout.write(`validate benchmark: ${count} files (${count} cards) in ${dir}; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`)
      for (const [label, ms] of rows) {
        const perSecond = Math.round((count / ms) * 1000)
        process.stdout.write(
          `  ${label.padEnd(50)} ${ms.toFixed(0).padStart(6)} ms  ${String(perSecond).padStart(6)} files/s  ` +
            `${(ms / ideal).toFixed(2)}x ideal  ${(ms / BUDGET_MS).toFixed(2)}x of the ${BUDGET_MS} ms budget\n`,
        )
      }
      process.stdout.write(`  CLI runs: ${cliRuns.map((ms) => ms.toFixed(0)).join(', ')} ms\n`)
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  },
}

export function generateProject(dir: string, count: number): void {
  // Cards go into subfolders of cards/, the images into cards/assets.
  const templates = quickstartCards().map((card) => rebaseImageFiles(card, '../'))
  writeFileSync(path.join(dir, 'cardform.yaml'), 'cards: cards\n')
  mkdirSync(path.join(dir, 'cards'))
  copyQuickstartImages(path.join(dir, 'cards'))
  for (let i = 0; i < count; i++) {
    const template = templates[i % templates.length]!
    const card = structuredClone(template)
    card.metadata.name = `${template.metadata.name}-${i}`
    for (const key of ['title', 'card_title'] as const) {
      if (typeof card.spec[key] === 'string') card.spec[key] = `${String(card.spec[key]).slice(0, 6)}${i % 1000}`
    }
    for (const key of ['total_quantity', 'quantity'] as const) if (typeof card.spec[key] === 'number') card.spec[key] = 1000 + i
    const folder = path.join(dir, 'cards', `group-${String(i % 50).padStart(2, '0')}`)
    mkdirSync(folder, {recursive: true})
    writeFileSync(path.join(folder, `card-${i}.yaml`), stringify(card))
  }
}

function listYaml(dir: string): string[] {
  return readdirSync(dir, {recursive: true, withFileTypes: true})
    .filter((e) => e.isFile() && /\.ya?ml$/.test(e.name))
    .map((e) => path.join(e.parentPath, e.name))
}

function time(work: () => void): number {
  const start = performance.now()
  work()
  return performance.now() - start
}

async function timeAsync(work: () => Promise<void>): Promise<number> {
  const start = performance.now()
  await work()
  return performance.now() - start
}
