import {closeSync, fstatSync, openSync, readSync} from 'node:fs'
import {formatAddress} from '../model/address.js'
import type {Diagnostic} from '../model/diagnostic.js'
import {locate} from './finding.js'
import type {LoaderLimits} from './limits.js'
import {parseYamlDocuments, type YamlDocument} from './parse-yaml.js'
import {prepareValue, type Environment, type VariableValue} from './prepare-values.js'
import type {PositionIndex} from './source-map.js'
import type {SpecValidator} from './spec-validator.js'

/**
 * What checking one spec file found, as plain data only (no functions, no YAML AST), so that it crosses a
 * worker-thread boundary unchanged and the parallel and serial loaders produce identical projects.
 */
export interface CheckedFile {
  /** Path relative to the project directory, with `/` separators. */
  file: string
  /** The file's text, kept to find positions later; undefined when it could not be read. */
  text: string | undefined
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
  if (text === undefined) return {file, text, documents: [], diagnostics, usedVariables: []}
  const checked = checkSpecText(text, file, context)
  return {file, text, documents: checked.documents, diagnostics: [...diagnostics, ...checked.diagnostics], usedVariables: checked.usedVariables}
}

/** Parses and validates the text of a spec file exactly as the loader does (`file` only names it in diagnostics). */
export function checkSpecText(text: string, file: string, context: CheckContext): Pick<CheckedFile, 'documents' | 'diagnostics' | 'usedVariables'> {
  const diagnostics: Diagnostic[] = []
  const documents: CheckedDocument[] = []
  const used = new Set<string>()
  const parsed = parseYamlDocuments(text, file, context.limits)
  diagnostics.push(...parsed.diagnostics)
  for (const yamlDoc of parsed.documents) {
    const document = checkDocument(yamlDoc, file, context, diagnostics, used)
    if (document) documents.push(document)
  }
  return {documents, diagnostics, usedVariables: [...used]}
}

function checkDocument(yamlDoc: YamlDocument, file: string, context: CheckContext, diagnostics: Diagnostic[], used: Set<string>): CheckedDocument | undefined {
  const prepared = prepareValue(yamlDoc.value, context, context.limits.maxDepth)
  for (const name of prepared.usedVariables) used.add(name)
  const value = prepared.value
  const doc = value as {kind?: unknown; metadata?: {name?: unknown; import_id?: unknown}; spec?: unknown} | null
  const kind = typeof doc?.kind === 'string' ? doc.kind : undefined
  const name = typeof doc?.metadata?.name === 'string' ? doc.metadata.name : undefined
  const address = kind !== undefined && name !== undefined ? formatAddress(kind, name) : undefined
  const tooDeep = prepared.findings.some((f) => f.code === 'nesting-limit')
  // A value left uninterpolated would also fail its schema; the env/var diagnostic alone says what to fix.
  const envPaths = new Set(prepared.findings.filter((f) => f.code.startsWith('env-') || f.code.startsWith('var-')).map((f) => f.path.join('\u0000')))
  const schemaFindings = tooDeep ? [] : context.validator.checkDocument(value).filter((f) => !envPaths.has(f.path.join('\u0000')))
  const findings = [...prepared.findings, ...schemaFindings]
  if (findings.length > 0) {
    const found = locate(findings, yamlDoc.positions(), file, address)
    diagnostics.push(...found)
    if (found.some((d) => d.severity === 'error')) return undefined
  }
  if (address === undefined) return undefined
  const metadata = (doc!.metadata ?? {}) as Record<string, unknown>
  const checked: CheckedDocument = {address, kind: kind!, name: name!, metadata, spec: (doc!.spec ?? {}) as Record<string, unknown>, docIndex: yamlDoc.docIndex}
  if (typeof metadata.import_id === 'string') checked.importId = metadata.import_id
  return checked
}

/**
 * The position index of every document of a file, by document index, parsed again from the file's text on the
 * first call and then kept. Valid documents rarely need positions, so the loader does not build them up front.
 */
export function lazyPositions(text: string, file: string, limits: LoaderLimits): (docIndex: number) => PositionIndex {
  let byIndex: Map<number, PositionIndex> | undefined
  const empty: PositionIndex = {lineStarts: [0], nodes: new Map(), documentOffset: 0}
  return (docIndex) => {
    byIndex ??= new Map(parseYamlDocuments(text, file, limits, {simple: false}).documents.map((d) => [d.docIndex, d.positions()]))
    return byIndex.get(docIndex) ?? empty
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
      return buffer.toString('utf8', 0, length)
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
