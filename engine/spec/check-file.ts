import {isUtf8} from 'node:buffer'
import {createHash} from 'node:crypto'
import {closeSync, fstatSync, openSync, readSync} from 'node:fs'
import {formatAddress} from '../model/address.js'
import type {Diagnostic} from '../model/diagnostic.js'
import {locate} from './finding.js'
import type {LoaderLimits} from './limits.js'
import {parseYamlDocuments, type YamlDocument} from './parse-yaml.js'
import {prepareValue, type Environment, type VariableValue} from './prepare-values.js'
import {linePosition, type PositionIndex} from './source-map.js'
import type {SpecValidator} from './spec-validator.js'

/**
 * What checking one spec file found, as plain data only (no functions, no YAML AST), so that it crosses a
 * worker-thread boundary unchanged and the parallel and serial loaders produce identical projects.
 *
 * Neither the text nor any parse tree is kept: at 100,000 cards the texts alone held 93 MB (UTF-16, since card
 * titles are Chinese) and the project peaked at 735 MB. Each document keeps where it starts; any other position is
 * found by reading the file again (`filePositions`), which only a document with a problem needs.
 */
export interface CheckedFile {
  /** Path relative to the project directory, with `/` separators. */
  file: string
  /** The file's path as read. */
  absolute: string
  /**
   * SHA-1 of the text as read, so that positions worked out later from a second read are only used when the file is
   * unchanged; undefined when it could not be read.
   */
  fingerprint: string | undefined
  /** Documents without errors, in file order. */
  documents: CheckedDocument[]
  /** In the order found; the loader sorts the project's diagnostics once at the end. */
  diagnostics: Diagnostic[]
  /** Names of the `${var.NAME}` the file references, for the project's `var-unused` check. */
  usedVariables: string[]
}

export interface CheckedDocument {
  address: string
  kind: string
  name: string
  /** The document's `metadata` (name, import_id, moved_from, lifecycle…) after interpolation. */
  metadata: Record<string, unknown>
  spec: Record<string, unknown>
  docIndex: number
  /** Where the document's root node starts: what `positionOf([])` gives, with no second read. */
  start: {line: number; column: number}
  /** metadata.import_id: the card_id of an existing card this document adopts. */
  importId?: string
}

export interface CheckContext {
  env: Environment
  /** --var-file/--var values; undefined when none were given. */
  vars?: Readonly<Record<string, VariableValue>> | undefined
  /** Where the variables came from, for `var-missing` messages. */
  varOrigin?: string | undefined
  limits: LoaderLimits
  validator: SpecValidator
}

/** Reads, parses and validates one spec file. User errors become diagnostics; nothing throws for bad input. */
export function checkSpecFile(absolute: string, file: string, context: CheckContext): CheckedFile {
  const diagnostics: Diagnostic[] = []
  const text = readBounded(absolute, file, context.limits, diagnostics)
  if (text === undefined) return {file, absolute, fingerprint: undefined, documents: [], diagnostics, usedVariables: []}
  const checked = checkSpecText(text, file, context)
  return {
    file,
    absolute,
    fingerprint: fingerprintOf(text),
    documents: checked.documents,
    diagnostics: [...diagnostics, ...checked.diagnostics],
    usedVariables: checked.usedVariables,
  }
}

function fingerprintOf(text: string): string {
  return createHash('sha1').update(text).digest('base64')
}

/** Parses and validates the text of a spec file exactly as the loader does (`file` only names it in diagnostics). */
export function checkSpecText(text: string, file: string, context: CheckContext): Pick<CheckedFile, 'documents' | 'diagnostics' | 'usedVariables'> {
  const diagnostics: Diagnostic[] = []
  const documents: CheckedDocument[] = []
  const used = new Set<string>()
  const parsed = parseYamlDocuments(text, file, context.limits)
  appendAll(diagnostics, parsed.diagnostics)
  for (const yamlDoc of parsed.documents) {
    const document = checkDocument(yamlDoc, parsed.lineStarts, file, context, diagnostics, used)
    if (document) documents.push(document)
  }
  return {documents, diagnostics: capDiagnostics(diagnostics, file, context.limits), usedVariables: [...used]}
}

/**
 * `target.push(...items)` without the spread: a spread passes every item as an argument, and some hundred thousand
 * of them overflow the stack (a file of `:` lines made `validate` die with "Maximum call stack size exceeded").
 */
export function appendAll<T>(target: T[], items: readonly T[]): void {
  for (const item of items) target.push(item)
}

/**
 * The first `maxDiagnosticsPerFile` of a file's diagnostics, then one more saying that others were left out: a
 * file of garbage yields one per token, and listing a hundred thousand helps no one.
 */
export function capDiagnostics(diagnostics: Diagnostic[], file: string, limits: LoaderLimits): Diagnostic[] {
  const cap = limits.maxDiagnosticsPerFile
  if (diagnostics.length <= cap) return diagnostics
  const kept = diagnostics.slice(0, cap)
  kept.push({
    severity: 'error',
    code: 'diagnostic-limit',
    message: `${file}: more than ${cap} problems; only the first ${cap} are listed`,
    source: {file, line: 1, column: 1},
  })
  return kept
}

function checkDocument(
  yamlDoc: YamlDocument,
  lineStarts: readonly number[],
  file: string,
  context: CheckContext,
  diagnostics: Diagnostic[],
  used: Set<string>,
): CheckedDocument | undefined {
  const prepared = prepareValue(yamlDoc.value, context, context.limits.maxDepth)
  for (const name of prepared.usedVariables) used.add(name)
  const value = prepared.value
  const doc = value as {kind?: unknown; metadata?: {name?: unknown; import_id?: unknown}; spec?: unknown} | null
  const kind = typeof doc?.kind === 'string' ? doc.kind : undefined
  const name = typeof doc?.metadata?.name === 'string' ? doc.metadata.name : undefined
  const address = kind !== undefined && name !== undefined ? formatAddress(kind, name) : undefined
  const tooDeep = prepared.findings.some((f) => f.code === 'nesting-limit')
  // A value left uninterpolated (or a number out of range) would also fail its schema; the first diagnostic alone
  // says what to fix.
  const envPaths = new Set(
    prepared.findings.filter((f) => f.code.startsWith('env-') || f.code.startsWith('var-') || f.code === 'number-range').map((f) => f.path.join('\u0000')),
  )
  const schemaFindings = tooDeep ? [] : context.validator.checkDocument(value).filter((f) => !envPaths.has(f.path.join('\u0000')))
  const findings = [...prepared.findings, ...schemaFindings]
  if (findings.length > 0) {
    const found = locate(findings, yamlDoc.positions(), file, address)
    appendAll(diagnostics, found)
    if (found.some((d) => d.severity === 'error')) return undefined
  }
  if (address === undefined) return undefined
  const metadata = (doc!.metadata ?? {}) as Record<string, unknown>
  const checked: CheckedDocument = {
    address,
    kind: kind!,
    name: name!,
    metadata,
    spec: (doc!.spec ?? {}) as Record<string, unknown>,
    docIndex: yamlDoc.docIndex,
    start: linePosition(lineStarts, yamlDoc.offset),
  }
  if (typeof metadata.import_id === 'string') checked.importId = metadata.import_id
  return checked
}

/** Files whose position indexes are kept at once; the one used longest ago is dropped first. */
const POSITION_CACHE_FILES = 4

/**
 * The position indexes of a project's files, by document index, worked out when first asked for by reading the file
 * again and parsing it the full way. Valid documents rarely need positions, so the loader neither builds them up
 * front nor keeps the text to build them from. Only the last few files asked about are kept: an index costs more
 * than the text (a node path and two offsets per node), and callers ask in address order, which follows the files
 * in any project laid out by name. Undefined when the file can no longer be read or no longer has the content it was
 * checked with (edited since): then no position inside it can be trusted.
 */
export function filePositions(limits: LoaderLimits): (checked: Pick<CheckedFile, 'file' | 'absolute' | 'fingerprint'>) => Map<number, PositionIndex> | undefined {
  const cache = new Map<string, Map<number, PositionIndex> | undefined>()
  return ({file, absolute, fingerprint}) => {
    if (cache.has(file)) {
      const hit = cache.get(file)
      cache.delete(file)
      cache.set(file, hit)
      return hit
    }
    const text = fingerprint === undefined ? undefined : readBounded(absolute, file, limits, [])
    const byIndex =
      text === undefined || fingerprintOf(text) !== fingerprint
        ? undefined
        : new Map(parseYamlDocuments(text, file, limits, {simple: false}).documents.map((d) => [d.docIndex, d.positions()]))
    cache.set(file, byIndex)
    if (cache.size > POSITION_CACHE_FILES) cache.delete(cache.keys().next().value!)
    return byIndex
  }
}

/** One read buffer per size cap, reused for every file: a card file is read whole and then decoded to a string. */
const readBuffers = new Map<number, Buffer>()

/**
 * Reads a file of at most `maxFileBytes` bytes, never loading more than one byte past the cap (so a huge file is never
 * held in memory). One open and one read per file, with no stat up front: the stat cost as much as the read on a
 * 5,000-file project. Only a file found too large is stat-ed, to say how large.
 */
export function readBounded(absolute: string, file: string, limits: LoaderLimits, diagnostics: Diagnostic[]): string | undefined {
  const cap = limits.maxFileBytes
  let buffer = readBuffers.get(cap)
  if (!buffer) readBuffers.set(cap, (buffer = Buffer.allocUnsafe(cap + 1)))
  try {
    const fd = openSync(absolute, 'r')
    try {
      let length = 0
      while (length <= cap) {
        const read = readSync(fd, buffer, length, cap + 1 - length, null)
        if (read === 0) break
        length += read
      }
      if (length > cap) {
        const size = fstatSync(fd).size
        diagnostics.push({
          severity: 'error',
          code: 'file-too-large',
          message: `${file} is ${size} bytes; the limit is ${cap} bytes (a card file is a few kilobytes)`,
          source: {file, line: 1, column: 1},
        })
        return undefined
      }
      const bytes = buffer.subarray(0, length)
      // Decoding alone would turn every invalid byte into U+FFFD and carry on: a card saved in GBK or UTF-16, or a
      // stray binary, would reach the API as replacement characters. isUtf8 is one fast pass; the slow search for
      // where it fails runs only on a file that does.
      if (!isUtf8(bytes)) {
        const offset = firstInvalidUtf8(bytes)
        const line = bytes.subarray(0, offset).filter((b) => b === 0x0a).length + 1
        const lineStart = offset === 0 ? 0 : bytes.lastIndexOf(0x0a, offset - 1) + 1
        const column = bytes.toString('utf8', lineStart, offset).length + 1
        diagnostics.push({
          severity: 'error',
          code: 'not-utf8',
          message: `${file} is not valid UTF-8 (byte 0x${bytes[offset]!.toString(16).padStart(2, '0')} at line ${line}, column ${column}); save it as UTF-8`,
          source: {file, line, column},
        })
        return undefined
      }
      return bytes.toString('utf8')
    } finally {
      closeSync(fd)
    }
  } catch (error) {
    diagnostics.push({
      severity: 'error',
      code: 'file-unreadable',
      message: `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      source: {file, line: 1, column: 1},
    })
    return undefined
  }
}

/** Offset of the first byte that does not start or continue a well-formed UTF-8 sequence (RFC 3629, table 3-7). */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0
  while (i < bytes.length) {
    const [length, low, high] = utf8Lead(bytes[i]!)
    if (length === 0) return i
    for (let k = 1; k < length; k++) {
      const c = bytes[i + k]
      if (c === undefined || c < (k === 1 ? low : 0x80) || c > (k === 1 ? high : 0xbf)) return i
    }
    i += length
  }
  return bytes.length
}

/** A lead byte's sequence length (0: not a lead byte) and the range its second byte must fall in. */
function utf8Lead(b: number): [length: number, low: number, high: number] {
  if (b < 0x80) return [1, 0, 0]
  if (b >= 0xc2 && b <= 0xdf) return [2, 0x80, 0xbf]
  if (b === 0xe0) return [3, 0xa0, 0xbf]
  if (b === 0xed) return [3, 0x80, 0x9f]
  if (b >= 0xe1 && b <= 0xef) return [3, 0x80, 0xbf]
  if (b === 0xf0) return [4, 0x90, 0xbf]
  if (b >= 0xf1 && b <= 0xf3) return [4, 0x80, 0xbf]
  if (b === 0xf4) return [4, 0x80, 0x8f]
  return [0, 0, 0]
}

/**
 * yaml 2.x reads `process.env.LOG_TOKENS` once per token (parse/parser.js `next`), and Node's `process.env` is an
 * accessor into the C environment costing about a microsecond a read: measured, a fifth to a quarter of the loader's
 * time on a thousand cards. While synchronous parsing runs, `process.env` is swapped for a plain copy and put back
 * straight after; no other code can run in between, and the copy holds the same values.
 */
export function withPlainEnvironment<T>(work: () => T): T {
  const original = process.env
  process.env = {...original}
  try {
    return work()
  } finally {
    process.env = original
  }
}
