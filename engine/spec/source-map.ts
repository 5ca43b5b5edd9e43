import type {SourcePosition} from '../model/diagnostic.js'

/** A path into a document: mapping keys and sequence indexes, from the document root (`['spec', 'title']`). */
export type FieldPath = readonly (string | number)[]

/** Whether a position names the key of a mapping entry (`title:`) or the value after it. */
export type PositionTarget = 'key' | 'value'

/**
 * Where each node of one YAML document starts, as plain data (so it survives a worker-thread boundary and does not
 * keep the whole YAML AST alive): `lineStarts` from yaml's LineCounter and, per node path, the offsets of its key
 * (-1 for sequence items and the root) and of its value.
 */
export interface PositionIndex {
  lineStarts: number[]
  nodes: Map<string, [keyOffset: number, valueOffset: number]>
  /** Offset of the document's first content, used when no node matches. */
  documentOffset: number
}

/** Map key for a path. NUL never occurs in a sensible YAML key, so joining on it is unambiguous in practice. */
export function pathKey(path: FieldPath): string {
  return path.join('\u0000')
}

/** Dotted form used in diagnostics: `spec.custom_field_list[0].name`. */
export function formatFieldPath(path: FieldPath): string {
  let out = ''
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`
    else out += out === '' ? segment : `.${segment}`
  }
  return out
}

/** 1-based line and column of a character offset, by binary search over the line starts. */
export function linePosition(lineStarts: readonly number[], offset: number): {line: number; column: number} {
  let low = 0
  let high = lineStarts.length - 1
  while (low < high) {
    const mid = (low + high + 1) >> 1
    if (lineStarts[mid]! <= offset) low = mid
    else high = mid - 1
  }
  return {line: low + 1, column: offset - (lineStarts[low] ?? 0) + 1}
}

/**
 * The source position of `path` in a document: the key or value node when the path exists; otherwise the nearest
 * ancestor that does (its key, so a missing field points at the mapping that should hold it), and finally the start
 * of the document. Never throws, so callers may ask about any path, including ones the user did not write.
 */
export function positionIn(
  index: PositionIndex,
  file: string,
  path: FieldPath,
  target: PositionTarget = 'value',
): SourcePosition {
  const exact = index.nodes.get(pathKey(path))
  let offset: number | undefined
  if (exact) offset = target === 'key' && exact[0] >= 0 ? exact[0] : exact[1]
  for (let length = path.length - 1; offset === undefined && length >= 0; length--) {
    const ancestor = index.nodes.get(pathKey(path.slice(0, length)))
    if (ancestor) offset = ancestor[0] >= 0 ? ancestor[0] : ancestor[1]
  }
  return {file, ...linePosition(index.lineStarts, offset ?? index.documentOffset)}
}
