import type {QueryResult, SkipReason} from '../../engine/adopt/query-live.js'
import {assertNever} from '../../engine/model/plan.js'
import type {Style} from './style.js'

/**
 * What `cardform query` found, for a person: a table of the cards no spec or state accounts for (kind, proposed
 * name, card_id, title), what was skipped and why, and what to do next. Warnings are rendered by the caller.
 */
export function renderQueryHuman(result: QueryResult, opts: {out?: string}, style: Style): string {
  const lines: string[] = []
  const {cards} = result
  if (cards.length === 0) {
    lines.push(style.bold('No live cards outside cardform were found.'))
  } else {
    lines.push(style.bold(`Found ${count(cards.length, 'card')} that cardform does not manage:`), '')
    const rows = [['KIND', 'NAME', 'CARD_ID', 'TITLE'], ...cards.map((c) => [c.kind, c.name, c.card_id, c.title])]
    const widths = [0, 1, 2].map((col) => Math.max(...rows.map((r) => r[col]!.length)))
    for (const [i, row] of rows.entries()) {
      const text = `  ${row.slice(0, 3).map((cell, col) => cell.padEnd(widths[col]!)).join('  ')}  ${row[3]}`.trimEnd()
      lines.push(i === 0 ? style.dim(text) : text)
    }
  }
  if (result.skipped.length > 0) {
    const byReason = new Map<SkipReason, number>()
    for (const s of result.skipped) byReason.set(s.reason, (byReason.get(s.reason) ?? 0) + 1)
    const parts = [...byReason].map(([reason, n]) => `${n} ${describe(reason)}`)
    lines.push('', style.dim(`Skipped ${count(result.skipped.length, 'listed card')}: ${parts.join(', ')}.`))
  }
  if (cards.length > 0) {
    lines.push('')
    if (opts.out === undefined) {
      lines.push(`Write a spec that adopts each with: cardform query --out DIR (DIR/<Kind>/<name>.yaml; e.g. --out cards/imported).`)
    } else {
      const written = cards.filter((c) => c.file !== undefined).length
      lines.push(`Wrote ${count(written, 'spec file')} under ${opts.out}${written < cards.length ? ` (${cards.length - written} not written: see the warnings)` : ''}.`)
      lines.push('Each adopts its card with metadata.import_id: review them, keep them under the cards directory, then run cardform plan.')
    }
  }
  return lines.join('\n') + '\n'
}

function describe(reason: SkipReason): string {
  switch (reason) {
    case 'gone':
      return 'deleted or invalidated'
    case 'in-state':
      return 'managed by cardform'
    case 'create-interrupted':
      return 'created by an interrupted apply'
    case 'import-pending':
      return 'adopted by a spec already (import pending)'
    default:
      return assertNever(reason)
  }
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`
}
