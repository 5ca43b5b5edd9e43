import {formatPosition, type Diagnostic} from '../../engine/model/diagnostic.js'
import type {CardformDiagnostics} from '../../engine/generated/diagnostics.js'
import type {Style} from './style.js'

/**
 * The JSON document printed by `cardform validate --json`: the type generated from schemas/diagnostics.schema.json,
 * so the printed value and its published schema cannot drift apart. `format_version` 1.x only ever adds fields; a
 * removal or change of meaning bumps the major version. Each diagnostic keeps the shape of engine/model/diagnostic.ts.
 */
export type DiagnosticsDocument = CardformDiagnostics

export function toDiagnosticsDocument(diagnostics: readonly Diagnostic[]): DiagnosticsDocument {
  const errorCount = diagnostics.filter((d) => d.severity === 'error').length
  return {
    format_version: '1.0',
    valid: errorCount === 0,
    error_count: errorCount,
    warning_count: diagnostics.length - errorCount,
    diagnostics: [...diagnostics],
  }
}

/** `file:line:column: error[code]: message`, then any related places, one per line. */
export function renderDiagnostic(diagnostic: Diagnostic, style: Style): string {
  const where = formatPosition(diagnostic.source)
  const label =
    diagnostic.severity === 'error' ? style.error(`error[${diagnostic.code}]`) : style.warning(`warning[${diagnostic.code}]`)
  const lines = [`${where === '' ? '' : `${style.location(where)}: `}${label}: ${diagnostic.message}`]
  for (const related of diagnostic.related ?? []) lines.push(style.dim(`  see also ${formatPosition(related)}`))
  return lines.join('\n')
}

export interface ValidationSummary {
  documents: number
  files: number
}

/** Every diagnostic in the order given (the loader sorts by file and position), then one summary line. */
export function renderValidation(diagnostics: readonly Diagnostic[], summary: ValidationSummary, style: Style): string {
  const document = toDiagnosticsDocument(diagnostics)
  const lines = diagnostics.map((d) => renderDiagnostic(d, style))
  const cards = `${summary.documents} ${summary.documents === 1 ? 'card' : 'cards'} in ${summary.files} ${summary.files === 1 ? 'file' : 'files'}`
  if (document.valid) {
    const warnings = document.warning_count > 0 ? ` (${plural(document.warning_count, 'warning')})` : ''
    lines.push(style.bold(`Valid: ${cards}${warnings}.`))
  } else {
    lines.push(style.bold(`Invalid: ${plural(document.error_count, 'error')} and ${plural(document.warning_count, 'warning')}; ${cards} passed.`))
  }
  return lines.join('\n')
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`
}
