import type {Diagnostic, Severity} from '../model/diagnostic.js'
import {formatFieldPath, positionIn, type FieldPath, type PositionIndex, type PositionTarget} from './source-map.js'

/**
 * A problem found inside one document, before it is placed in the source: the checks work on plain values and
 * field paths, and `locate` turns their findings into diagnostics with file:line:column.
 */
export interface Finding {
  severity: Severity
  code: string
  message: string
  path: FieldPath
  /** Point at the key (`title:`) rather than the value; used for unknown keys and missing children. */
  target: PositionTarget
}

export function locate(
  findings: readonly Finding[],
  positions: PositionIndex,
  file: string,
  address: string | undefined,
): Diagnostic[] {
  return findings.map((finding) => {
    const diagnostic: Diagnostic = {
      severity: finding.severity,
      code: finding.code,
      message: finding.message,
      source: positionIn(positions, file, finding.path, finding.target),
      path: formatFieldPath(finding.path),
    }
    if (diagnostic.path === '') delete diagnostic.path
    if (address !== undefined) diagnostic.address = address
    return diagnostic
  })
}

/** A value quoted for a message: strings in double quotes, long ones cut, objects summarised. */
export function quote(value: unknown): string {
  if (typeof value === 'string') {
    const cut = [...value].length > 60 ? `${[...value].slice(0, 57).join('')}...` : value
    return JSON.stringify(cut)
  }
  if (value === null) return 'null'
  if (Array.isArray(value)) return `a list of ${value.length}`
  if (typeof value === 'object') return 'a mapping'
  return String(value)
}
