import {cpSync, readFileSync, readdirSync} from 'node:fs'
import path from 'node:path'
import {parseAllDocuments} from 'yaml'
import {packageRoot} from '../engine/paths.js'

/** One card document of the quickstart, as plain JS. */
export interface QuickstartCard {
  kind: string
  metadata: {name: string}
  spec: Record<string, unknown>
}

const QUICKSTART_CARDS = path.join(packageRoot, 'examples/quickstart/cards')

/** The quickstart's card documents, from `files` (default: every .yaml file, sorted), in order. */
export function quickstartCards(files?: readonly string[]): QuickstartCard[] {
  const names = files ?? readdirSync(QUICKSTART_CARDS).filter((f) => /\.ya?ml$/.test(f)).sort()
  return names
    .flatMap((f) => parseAllDocuments(readFileSync(path.join(QUICKSTART_CARDS, f), 'utf8')))
    .map((d) => d.toJS() as QuickstartCard)
}

/**
 * Copies the quickstart's local images (cards/assets/, which its cards name as `{file: assets/…}`) into `cardsDir`,
 * so generated cards written there resolve them as the quickstart's do. Cards written to a subfolder of `cardsDir`
 * need their references rebased first (`rebaseImageFiles`).
 */
export function copyQuickstartImages(cardsDir: string): void {
  cpSync(path.join(QUICKSTART_CARDS, 'assets'), path.join(cardsDir, 'assets'), {recursive: true})
}

/** A copy of `card` whose `{file: …}` image references are prefixed with `prefix` (e.g. `../` for a subfolder). */
export function rebaseImageFiles(card: QuickstartCard, prefix: string): QuickstartCard {
  const rebase = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(rebase)
    if (value === null || typeof value !== 'object') return value
    const entries = Object.entries(value as Record<string, unknown>)
    if (entries.length === 1 && entries[0]![0] === 'file' && typeof entries[0]![1] === 'string') return {file: prefix + entries[0]![1]}
    return Object.fromEntries(entries.map(([k, v]) => [k, rebase(v)]))
  }
  return {...card, spec: rebase(card.spec) as Record<string, unknown>}
}
