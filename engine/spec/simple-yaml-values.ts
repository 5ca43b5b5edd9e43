import {CST, Document, isScalar, type ScalarTag} from 'yaml'

/**
 * A fast path from yaml's CST straight to plain JS values, for the shapes card files are written in: block maps
 * and sequences, one-line flow sequences and maps, plain, quoted and block scalars. Composing yaml's document AST
 * and converting it with toJS took about 45% of the loader's YAML time on a 5,000-file project; this walk skips
 * both. Scalars go through the same functions the composer uses (`CST.resolveAsScalar` for quoting, folding and
 * escapes, then the core schema's own tags in the composer's order), so a value resolves exactly as yaml would.
 *
 * Invariant: a file gets values from here only when every token is one this walk understands AND yaml's composer
 * would report no error for it. Each check below mirrors one error the composer can raise (resolve-props,
 * resolve-block-map, resolve-block-seq, resolve-flow-collection, compose-doc; yaml 2.x); anything else (anchors,
 * aliases, tags, directives, explicit or complex keys, duplicate keys, tabs, comments in flow collections, empty
 * documents, error tokens) makes the whole file go through the composer, which then reports exactly what it always
 * did. test/unit/spec/simple-yaml-values.test.ts compares the two paths over fixtures and generated documents.
 */
export function simpleDocumentValues(text: string, tokens: readonly CST.Token[]): unknown[] | undefined {
  if (!isSimpleText(text)) return undefined
  const values: unknown[] = []
  for (const token of tokens) {
    const value = simpleTokenValue(token)
    if (value === NOT_SIMPLE) return undefined
    if (value !== NOTHING) values.push(value)
  }
  return values
}

/**
 * Whether a file's text may take this path at all. Tabs change indentation rules in several places (resolveProps'
 * TAB_AS_INDENT); a byte-order mark is a token of its own. Neither appears in ordinary card files, so both go the
 * full way.
 */
export function isSimpleText(text: string): boolean {
  return !text.includes('\t') && text.charCodeAt(0) !== 0xfeff
}

/** What `simpleTokenValue` gives for a token between documents (a comment, a space, a line break). */
export const NOTHING: unique symbol = Symbol('nothing')

/**
 * One top-level token of a file whose text passed `isSimpleText`: a document's value, NOTHING for a token between
 * documents, or NOT_SIMPLE when the token (and so the file) must go through the composer. Taking a file's tokens one
 * at a time, as the parser yields them, gives what `simpleDocumentValues` gives for all of them, without holding the
 * file's whole syntax tree.
 */
export function simpleTokenValue(token: CST.Token): unknown {
  switch (token.type) {
    case 'comment':
    case 'newline':
    case 'space':
      return NOTHING
    case 'document':
      try {
        return documentValue(token)
      } catch (error) {
        if (error === NOT_SIMPLE) return NOT_SIMPLE
        throw error
      }
    default:
      // directives, doc-end markers, error tokens: the composer's business
      return NOT_SIMPLE
  }
}

/**
 * Thrown inside this module when a token is outside the subset (a plain object, so no stack is captured), and
 * returned by `simpleTokenValue`.
 */
export const NOT_SIMPLE: unknown = Object.freeze({notSimple: true})

function bail(): never {
  throw NOT_SIMPLE
}

type ValueToken = CST.Token
type ScalarToken = CST.FlowScalar | CST.BlockScalar

function documentValue(doc: CST.Document): unknown {
  const props = checkProps(doc.start, 'doc-start', true)
  const value = doc.value
  // An empty document becomes a null scalar with positions of its own; rare, so left to the composer.
  if (!value) bail()
  if (props.found && (value.type === 'block-map' || value.type === 'block-seq') && !props.hasNewline) bail()
  const result = nodeValue(value, false, 1)
  if (doc.end) checkEnd(doc.end)
  return result
}

/**
 * Deepest nesting walked. The loader refuses documents deeper than its own limit (64) before this runs; the bound
 * only keeps the recursion safe for any other caller, which then gets the composer (and its resource checks).
 */
const MAX_DEPTH = 128

function nodeValue(token: ValueToken, atKey: boolean, depth: number): unknown {
  if (depth > MAX_DEPTH) bail()
  switch (token.type) {
    case 'scalar':
    case 'single-quoted-scalar':
    case 'double-quoted-scalar':
    case 'block-scalar':
      return scalarValue(token, atKey)
    case 'block-map':
      return blockMapValue(token, depth)
    case 'block-seq':
      return blockSeqValue(token, depth)
    case 'flow-collection':
      return flowCollectionValue(token, depth)
    default:
      return bail()
  }
}

interface CoreSchema {
  valueTags: ScalarTag[]
  keyTags: ScalarTag[]
  stringTag: ScalarTag
  options: Document['options']
}

let core: CoreSchema | undefined

/**
 * The tags a document of the composer's default version (1.2, core schema) resolves plain scalars with, taken from
 * yaml itself rather than copied, so they cannot drift apart.
 */
function coreSchema(): CoreSchema {
  if (core) return core
  const doc = new Document()
  const tags = doc.schema.tags as ScalarTag[]
  // compose-scalar.ts findScalarTagByTest: default tags with a test, in schema order; `default: 'key'` only at keys.
  const valueTags = tags.filter((tag) => tag.default === true && tag.test !== undefined)
  const keyTags = tags.filter((tag) => (tag.default === true || tag.default === 'key') && tag.test !== undefined)
  const stringTag = (doc.schema as unknown as Record<symbol, ScalarTag>)[Symbol.for('yaml.scalar')]
  if (!stringTag || doc.schema.compat) throw new Error('yaml core schema: unexpected shape (string tag missing or compat set)')
  core = {valueTags, keyTags, stringTag, options: doc.options}
  return core
}

const MAY_NOT_BE_STRING = new Set([...'~nNtTfF0123456789+-.'].map((c) => c.charCodeAt(0)))

function scalarValue(token: ScalarToken, atKey: boolean): unknown {
  // Any error or warning the composer would record for this scalar (bad escapes, bad block scalar headers,
  // comments without a space before them, a plain scalar starting with a reserved character) means not simple.
  const resolved = CST.resolveAsScalar(token, true, bail)
  if (!resolved) return bail()
  const schema = coreSchema()
  let tag = schema.stringTag
  // Every core-schema test (null, bool, int, float) matches only the empty string or a string starting with one of
  // these characters; most card values (names, URLs, app IDs, Chinese text) start elsewhere and skip all eight
  // regular expressions. The equivalence test covers strings of every kind, so a yaml change here would show.
  if (token.type === 'scalar' && (resolved.value === '' || MAY_NOT_BE_STRING.has(resolved.value.charCodeAt(0)))) {
    const tags = atKey ? schema.keyTags : schema.valueTags
    for (const candidate of tags) {
      if (candidate.test!.test(resolved.value)) {
        tag = candidate
        break
      }
    }
  }
  const result = tag.resolve(resolved.value, bail, schema.options)
  const value = isScalar(result) ? result.value : result
  if (typeof value === 'bigint' || (value !== null && typeof value === 'object')) bail()
  return value
}

function blockMapValue(map: CST.BlockMap, depth: number): Record<string, unknown> {
  const result: Record<string, unknown> = {}
  const items = map.items
  // A lower bound of the composer's running offset (the end of the previous pair), for the 1024-character rule.
  let previousEnd = map.offset
  for (let i = 0; i < items.length; i++) {
    const {start, key, sep, value, explicitKey} = items[i]!
    if (explicitKey) bail()
    checkProps(start, null, true)
    if (!key) {
      // Only a trailing comment-only item is harmless; anything else without a key is an error or an explicit key.
      if (sep || value || i !== items.length - 1) bail()
      continue
    }
    if (key.type !== 'scalar' && key.type !== 'single-quoted-scalar' && key.type !== 'double-quoted-scalar') bail()
    if (key.indent !== map.indent || containsNewline(key) || !sep) bail()
    const valueProps = checkProps(sep, 'map-value-ind', false)
    const found = valueProps.found
    if (!found) bail()
    if (value && (value.type === 'block-map' || value.type === 'block-seq') && !valueProps.hasNewline) bail()
    const keyStart = start.length > 0 ? endOf(start[start.length - 1]!) : previousEnd
    if (keyStart < found.offset - 1024) bail()
    const name = scalarValue(key, true)
    if (typeof name !== 'string' || name === '<<' || Object.hasOwn(result, name)) bail()
    const entry = value ? nodeValue(value, false, depth + 1) : null
    // As yaml's addPairToJSMap: a name the prototype chain already has (`__proto__`, `constructor`) is defined, not
    // assigned, so it becomes an own property and never reaches a setter.
    if (name in result) Object.defineProperty(result, name, {value: entry, writable: true, enumerable: true, configurable: true})
    else result[name] = entry
    previousEnd = value ? lowerEnd(value) : endOf(sep[sep.length - 1]!)
  }
  return result
}

function blockSeqValue(seq: CST.BlockSequence, depth: number): unknown[] {
  const result: unknown[] = []
  const items = seq.items
  for (let i = 0; i < items.length; i++) {
    const item = items[i]! as CST.BlockSequence['items'][number] & {key?: unknown; sep?: unknown}
    if (item.key !== undefined || item.sep !== undefined) bail()
    const props = checkProps(item.start, 'seq-item-ind', true)
    if (!props.found) {
      if (item.value || i !== items.length - 1) bail()
      continue
    }
    result.push(item.value ? nodeValue(item.value, false, depth + 1) : null)
  }
  return result
}

/** One-line flow collections of scalars or nested flow collections; comments and line breaks inside go the full way. */
function flowCollectionValue(flow: CST.FlowCollection, depth: number): unknown {
  const isMap = flow.start.source === '{'
  if (!isMap && flow.start.source !== '[') bail()
  const map: Record<string, unknown> = {}
  const seq: unknown[] = []
  const items = flow.items
  for (let i = 0; i < items.length; i++) {
    const {start, key, sep, value} = items[i]!
    const comma = checkFlowProps(start, 'comma')
    if (!key && !sep && !value) {
      // `[]`, `[ ]` and one trailing comma are fine; a leading comma or an empty item in the middle are errors.
      if ((i === 0 && comma) || i < items.length - 1) bail()
      continue
    }
    if (i === 0 ? comma : !comma) bail()
    if (value && !isFlowValue(value)) bail()
    if (!isMap) {
      if (key || sep || !value) bail()
      seq.push(nodeValue(value, false, depth + 1))
      continue
    }
    if (!key || !sep || !isFlowValue(key) || key.type === 'flow-collection') bail()
    if (!checkFlowProps(sep, 'map-value-ind')) bail()
    const name = scalarValue(key as CST.FlowScalar, true)
    if (typeof name !== 'string' || name === '<<' || Object.hasOwn(map, name)) bail()
    const entry = value ? nodeValue(value, false, depth + 1) : null
    if (name in map) Object.defineProperty(map, name, {value: entry, writable: true, enumerable: true, configurable: true})
    else map[name] = entry
  }
  const [close, ...rest] = flow.end
  if (close?.source !== (isMap ? '}' : ']')) bail()
  checkEnd(rest)
  return isMap ? map : seq
}

function isFlowValue(token: ValueToken): boolean {
  switch (token.type) {
    case 'scalar':
    case 'single-quoted-scalar':
    case 'double-quoted-scalar':
      return !containsNewline(token)
    case 'flow-collection':
      return true
    default:
      return false
  }
}

/**
 * The subset of yaml's resolveProps this path accepts before a node: spaces, line breaks, comments preceded by white
 * space, and at most one `indicator` (none when null). Anchors, tags, explicit keys and anything unexpected bail.
 */
function checkProps(tokens: readonly CST.SourceToken[], indicator: string | null, startOnNewline: boolean): {found: CST.SourceToken | undefined; hasNewline: boolean} {
  let hasSpace = startOnNewline
  let hasNewline = false
  let found: CST.SourceToken | undefined
  for (const token of tokens) {
    switch (token.type) {
      case 'space':
        hasSpace = true
        break
      case 'newline':
        hasSpace = true
        hasNewline = true
        break
      case 'comment':
        if (!hasSpace) bail()
        break
      default:
        if (token.type !== indicator || found) bail()
        found = token
        hasSpace = false
    }
  }
  return {found, hasNewline}
}

/** Within a flow collection only spaces and one `indicator` token; whether the indicator was there. */
function checkFlowProps(tokens: readonly CST.SourceToken[], indicator: 'comma' | 'map-value-ind'): boolean {
  let found = false
  for (const token of tokens) {
    if (token.type === 'space') continue
    if (token.type !== indicator || found) bail()
    found = true
  }
  return found
}

/** What may follow a node (yaml's resolveEnd, strict): spaces, line breaks, comments after white space. */
function checkEnd(tokens: readonly CST.SourceToken[]): void {
  let hasSpace = false
  for (const token of tokens) {
    if (token.type === 'space' || token.type === 'newline') hasSpace = true
    else if (token.type !== 'comment' || !hasSpace) bail()
  }
}

/** yaml's containsNewline for a scalar key or value. */
function containsNewline(token: CST.FlowScalar): boolean {
  if (token.source.includes('\n')) return true
  if (token.end) for (const t of token.end) if (t.type === 'newline') return true
  return false
}

function endOf(token: CST.SourceToken): number {
  return token.offset + token.source.length
}

/** A lower bound of where the composer considers a node to end (its range[2]); never more than the truth. */
function lowerEnd(token: ValueToken): number {
  switch (token.type) {
    case 'scalar':
    case 'single-quoted-scalar':
    case 'double-quoted-scalar':
    case 'block-scalar':
      return token.offset + token.source.length
    case 'block-map':
    case 'block-seq':
      for (let i = token.items.length - 1; i >= 0; i--) {
        const value = token.items[i]!.value
        if (value) return lowerEnd(value)
      }
      return token.offset
    default:
      return token.offset
  }
}
