/**
 * A diagnostic is a problem found in the user's input (spec, config, plan file) or raised while planning. It is
 * plain data: collected, never thrown one at a time, and rendered by the CLI in human or JSON form.
 *
 * `code` is stable: pipelines match on it, so codes are never renamed, only added.
 */
export type Severity = 'error' | 'warning'

export interface SourcePosition {
  /** Path of the file, relative to the project directory when it is inside it. */
  file: string
  /** 1-based line. */
  line: number
  /** 1-based column, counted in characters (UTF-16 code units, as editors count). */
  column: number
}

export interface Diagnostic {
  severity: Severity
  /** Stable kebab-case identifier, e.g. `schema-enum`, `duplicate-name`, `oneway-reversal`. */
  code: string
  /** One sentence a person understands: what is wrong, with the offending value and what is allowed. */
  message: string
  /** Where in the source, when the problem has a place in a file. */
  source?: SourcePosition
  /** Field path inside the document, e.g. `spec.date_information.type`. */
  path?: string
  /** The card or document concerned, `Kind/name`, when known. */
  address?: string
  /** Other places that matter (the first definition of a duplicate, say). */
  related?: SourcePosition[]
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error')
}

/** `file:line:column` or '' when the diagnostic has no source position. */
export function formatPosition(pos: SourcePosition | undefined): string {
  return pos ? `${pos.file}:${pos.line}:${pos.column}` : ''
}
