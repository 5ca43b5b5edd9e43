import {Composer, Lexer, LineCounter, Parser, isAlias, isMap, isScalar, isSeq, type CST, type Document, type Node} from 'yaml'
import type {Diagnostic} from '../model/diagnostic.js'
import type {LoaderLimits} from './limits.js'
import {cstDepth, estimateNesting} from './nesting.js'
import {isSimpleText, NOT_SIMPLE, NOTHING, simpleTokenValue} from './simple-yaml-values.js'
import {linePosition, type PositionIndex} from './source-map.js'

/**
 * Most tokens the fast path lets one document have (an ordinary card has about 80). A longer one goes the full way at
 * once: a hostile file is typically one huge document (`{,,,…}`), and building its tree twice, once here and once
 * for the full path's diagnostics, cost 16 MB more than the full path alone.
 */
const FAST_DOCUMENT_TOKENS = 10_000

/** A lexeme of spaces, tabs and line breaks only. */
const BLANK = /^[ \t\r\n]*$/

/** One YAML document of a file, as plain JS with the positions of its nodes. */
export interface YamlDocument {
  /** 0-based index of the document in its file, counting empty ones, so it matches what the user sees. */
  docIndex: number
  value: unknown
  /** Offset of the document's root node (what `positions().documentOffset` holds), known without building positions. */
  offset: number
  /**
   * Where each node starts, built on the first call and kept. Only documents with problems need it, and building
   * it for every document cost a fifth of the loader's time on large projects, so it is not built up front.
   */
  positions(): PositionIndex
}

export interface ParsedYaml {
  documents: YamlDocument[]
  diagnostics: Diagnostic[]
  /** Offsets at which the file's lines start, for turning an offset into a line and column. */
  lineStarts: number[]
}

export interface ParseOptions {
  /**
   * Whether plain files may take the fast path from the CST to values (simple-yaml-values.ts); default true. Off when
   * only positions are wanted, since those need yaml's document AST anyway.
   */
  simple?: boolean
}

/**
 * Parses every document of one file. Syntax errors, alias bombs, excessive nesting and too many documents become
 * diagnostics (the document concerned is dropped); nothing throws for bad input. Empty documents (a stray `---`) are
 * skipped silently.
 */
export function parseYamlDocuments(text: string, file: string, limits: LoaderLimits, options: ParseOptions = {}): ParsedYaml {
  // yaml records every syntax error as an Error, and V8 captures a stack trace for each: on a file of nothing but
  // errors (`{,,,…}`) that was most of the memory. Nothing here needs those traces (the errors become diagnostics),
  // and this code is synchronous, so they are off until it returns.
  const stackTraceLimit = Error.stackTraceLimit
  Error.stackTraceLimit = 0
  try {
    return parseBounded(text, file, limits, options)
  } finally {
    Error.stackTraceLimit = stackTraceLimit
  }
}

function parseBounded(text: string, file: string, limits: LoaderLimits, options: ParseOptions): ParsedYaml {
  const lineCounter = new LineCounter()
  const diagnostics: Diagnostic[] = []
  const at = (offset: number) => ({file, ...linePosition(lineCounter.lineStarts, offset)})

  const estimate = estimateNesting(text, limits.maxDepth * 4)
  if (estimate.depth > limits.maxDepth * 4) {
    // Refused before parsing; positions come from a line table of our own since the parser never ran.
    const starts = [0]
    for (let i = text.indexOf('\n'); i !== -1 && i < estimate.offset; i = text.indexOf('\n', i + 1)) starts.push(i + 1)
    diagnostics.push(nestingDiagnostic({file, ...linePosition(starts, estimate.offset)}, limits.maxDepth))
    return {documents: [], diagnostics, lineStarts: starts}
  }

  if (options.simple !== false && isSimpleText(text)) {
    const simple = parseSimple(text, file, limits)
    if (simple) return simple
  }

  // Parser.parse, unrolled: the lexer's tokens are counted on their way in, so that a file of too many is refused
  // before the parser has built more than the limit's worth of them.
  const tokens: CST.Token[] = []
  let documentTokens = 0
  const parser = new Parser(lineCounter.addNewLine)
  lineCounter.addNewLine(0)
  const take = (token: CST.Token): boolean => {
    if (token.type === 'document' && ++documentTokens > limits.maxDocumentsPerFile) {
      diagnostics.push({
        severity: 'error',
        code: 'document-limit',
        message: `${file} has more than ${limits.maxDocumentsPerFile} YAML documents; split it into several files`,
        source: at(token.offset),
      })
      return false
    }
    tokens.push(token)
    return true
  }
  let lexemes = 0
  let more = true
  for (const lexeme of new Lexer().lex(text)) {
    // Spaces and line breaks are not counted: they cost the parser little, and an ordinary card is mostly them.
    if (!BLANK.test(lexeme) && ++lexemes > limits.maxTokensPerFile) {
      diagnostics.push({
        severity: 'error',
        code: 'token-limit',
        message: `${file} has more than ${limits.maxTokensPerFile} YAML tokens (a card has about 80); split it into several files`,
        source: at(parser.offset),
      })
      return {documents: [], diagnostics, lineStarts: lineCounter.lineStarts}
    }
    for (const token of parser.next(lexeme)) if (!(more = take(token))) break
    if (!more) break
  }
  if (more) for (const token of parser.end()) if (!take(token)) break

  const documents: YamlDocument[] = []
  const composer = new Composer({prettyErrors: false})
  const tooDeep = new Set<number>()
  let docIndex = -1
  for (const token of tokens) {
    if (token.type !== 'document') continue
    docIndex++
    const depth = cstDepth(token, limits.maxDepth)
    if (depth.depth > limits.maxDepth) {
      diagnostics.push(nestingDiagnostic(at(depth.offset), limits.maxDepth))
      tooDeep.add(docIndex)
      // Compose an empty document in its place so later indexes still line up.
      delete token.value
    }
  }

  docIndex = -1
  for (const doc of composer.compose(tokens)) {
    docIndex++
    if (tooDeep.has(docIndex)) continue
    if (doc.errors.length > 0) {
      for (const error of doc.errors) {
        // One past the cap, so that the file's caller knows some were left out (check-file.ts says so).
        if (diagnostics.length > limits.maxDiagnosticsPerFile) break
        diagnostics.push({
          severity: 'error',
          code: 'yaml-syntax',
          message: `YAML syntax error: ${firstLine(error.message)}`,
          source: at(error.pos[0]),
        })
      }
      continue
    }
    if (doc.contents === null) continue
    let value: unknown
    try {
      value = doc.toJS({maxAliasCount: limits.maxAliasCount})
    } catch (error) {
      // yaml throws a ReferenceError when aliases expand past maxAliasCount ("billion laughs").
      diagnostics.push({
        severity: 'error',
        code: 'alias-limit',
        message: `YAML aliases expand too far (more than ${limits.maxAliasCount} alias uses for one node): ${firstLine(
          error instanceof Error ? error.message : String(error),
        )}`,
        source: at(doc.contents.range[0]),
      })
      continue
    }
    let positions: PositionIndex | undefined
    documents.push({docIndex, value, offset: doc.contents.range[0], positions: () => (positions ??= indexPositions(doc, lineCounter))})
  }
  return {documents, diagnostics, lineStarts: lineCounter.lineStarts}
}

/**
 * The fast path (simple-yaml-values.ts), one document at a time: each document's syntax tree is turned into its value
 * as soon as the parser yields it, and dropped. Undefined, having reported nothing, as soon as anything is outside
 * the fast path's subset or past a limit: the full path then parses the file again and reports exactly what it
 * always did. Holding the whole file's tree (some 9 MB for 500 cards) until every value was made let each file's
 * tree outlive the young generation; at 100,000 cards V8 let that garbage grow the heap past 200 MB.
 */
function parseSimple(text: string, file: string, limits: LoaderLimits): ParsedYaml | undefined {
  const lineCounter = new LineCounter()
  const parser = new Parser(lineCounter.addNewLine)
  lineCounter.addNewLine(0)
  const values: unknown[] = []
  const offsets: number[] = []
  const take = (token: CST.Token): boolean => {
    if (token.type === 'document') {
      if (values.length >= limits.maxDocumentsPerFile || cstDepth(token, limits.maxDepth).depth > limits.maxDepth) return false
      offsets.push(token.value?.offset ?? token.offset)
    }
    const value = simpleTokenValue(token)
    if (value === NOT_SIMPLE) return false
    if (value !== NOTHING) values.push(value)
    return true
  }
  let lexemes = 0
  let sinceLastToken = 0
  for (const lexeme of new Lexer().lex(text)) {
    if (!BLANK.test(lexeme) && (++lexemes > limits.maxTokensPerFile || ++sinceLastToken > FAST_DOCUMENT_TOKENS)) return undefined
    for (const token of parser.next(lexeme)) {
      if (!take(token)) return undefined
      sinceLastToken = 0
    }
  }
  for (const token of parser.end()) if (!take(token)) return undefined
  const positionsOf = lazyFullPositions(text, file, limits, lineCounter.lineStarts)
  return {
    documents: values.map((value, index) => ({docIndex: index, value, offset: offsets[index]!, positions: () => positionsOf(index)})),
    diagnostics: [],
    lineStarts: lineCounter.lineStarts,
  }
}

/**
 * Positions need yaml's document AST; the rare document of a fast-path file that has a problem parses the file again,
 * the full way, once. A function of its own so that the closure holds the text and nothing of the first parse.
 */
function lazyFullPositions(text: string, file: string, limits: LoaderLimits, lineStarts: number[]): (docIndex: number) => PositionIndex {
  let full: ParsedYaml | undefined
  return (docIndex) => {
    full ??= parseYamlDocuments(text, file, limits, {simple: false})
    // Always found: the fast path takes a file only when the composer reports nothing for it.
    const found = full.documents.find((d) => d.docIndex === docIndex)
    return found ? found.positions() : {lineStarts, nodes: new Map(), documentOffset: 0}
  }
}

function nestingDiagnostic(source: Diagnostic['source'] & {}, maxDepth: number): Diagnostic {
  return {
    severity: 'error',
    code: 'nesting-limit',
    message: `YAML nesting is deeper than ${maxDepth} levels; a card needs far fewer`,
    source,
  }
}

function firstLine(message: string): string {
  return message.split('\n', 1)[0]!.replace(/ at line \d+, column \d+:?$/, '')
}

/**
 * Records the offsets of every node reachable without following aliases. Iterative (depth is already bounded) and
 * building each key from its parent's string, since this runs for every node of every file.
 */
function indexPositions(doc: Document.Parsed, lineCounter: LineCounter): PositionIndex {
  const nodes: PositionIndex['nodes'] = new Map()
  const root = doc.contents
  const documentOffset = root?.range[0] ?? doc.range[0]
  if (!root) return {lineStarts: lineCounter.lineStarts, nodes, documentOffset}
  const stack: Array<[Node, string, number, boolean]> = [[root, '', -1, true]]
  while (stack.length > 0) {
    const [node, key, keyOffset, isRoot] = stack.pop()!
    nodes.set(key, [keyOffset, node.range?.[0] ?? documentOffset])
    if (isAlias(node)) continue
    const prefix = isRoot ? '' : `${key}\u0000`
    if (isMap(node)) {
      for (const pair of node.items) {
        const k = pair.key
        if (!isScalar(k)) continue
        const childKey = prefix + String(k.value)
        if (isNodeLike(pair.value)) stack.push([pair.value, childKey, k.range?.[0] ?? -1, false])
        else nodes.set(childKey, [k.range?.[0] ?? -1, k.range?.[1] ?? documentOffset])
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, index) => {
        if (isNodeLike(item)) stack.push([item, prefix + String(index), -1, false])
      })
    }
  }
  return {lineStarts: lineCounter.lineStarts, nodes, documentOffset}
}

function isNodeLike(value: unknown): value is Node {
  return typeof value === 'object' && value !== null && 'range' in value && Array.isArray((value as Node).range)
}
