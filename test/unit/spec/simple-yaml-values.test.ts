import {readFileSync, readdirSync} from 'node:fs'
import path from 'node:path'
import {isDeepStrictEqual} from 'node:util'
import {Parser, stringify, type ToStringOptions} from 'yaml'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {LOADER_LIMITS} from '../../../engine/spec/limits.js'
import {parseYamlDocuments} from '../../../engine/spec/parse-yaml.js'
import {simpleDocumentValues} from '../../../engine/spec/simple-yaml-values.js'
import {fixturesDir} from './helpers.js'

/**
 * The fast path (CST → values) must be indistinguishable from yaml's composer: for every input, the same values
 * (same types, same key order, NaN and -0 included), the same document indexes and the same diagnostics. Inputs:
 * every YAML and JSON file of the fixtures, examples and golden cases; hand-written edge cases; thousands of
 * generated documents in every quoting and collection style; and the same documents randomly mutated.
 */

const repoRoot = path.resolve(fixturesDir, '../../..')

interface Comparison {
  fast: boolean
  problem: string | undefined
}

/** Runs both paths on one text; `problem` describes the first difference, if any. */
function compare(text: string): Comparison {
  const withFastPath = parseYamlDocuments(text, 'card.yaml', LOADER_LIMITS)
  const composed = parseYamlDocuments(text, 'card.yaml', LOADER_LIMITS, {simple: false})
  const fast = simpleDocumentValues(text, [...new Parser().parse(text)]) !== undefined
  const describe = (parsed: typeof composed) => ({
    documents: parsed.documents.map((d) => ({docIndex: d.docIndex, offset: d.offset, value: d.value, shape: shapeOf(d.value)})),
    diagnostics: parsed.diagnostics,
  })
  const a = describe(withFastPath)
  const b = describe(composed)
  if (isDeepStrictEqual(a, b)) return {fast, problem: undefined}
  return {fast, problem: `${JSON.stringify(text)}\nfast path: ${inspect(a)}\ncomposer:  ${inspect(b)}`}
}

/** Key order and exact number identity, which deep equality alone does not check; cycles (from aliases) cut short. */
function shapeOf(value: unknown, open: Set<object> = new Set()): unknown {
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value)
  if (value === null || typeof value !== 'object') return `${typeof value}:${String(value)}`
  if (open.has(value)) return '<cycle>'
  open.add(value)
  const shape = Array.isArray(value)
    ? value.map((item) => shapeOf(item, open))
    : {proto: Object.getPrototypeOf(value) === Object.prototype, entries: Object.entries(value).map(([k, v]) => [k, shapeOf(v, open)])}
  open.delete(value)
  return shape
}

function inspect(value: unknown): string {
  try {
    return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v))
  } catch {
    return String(value)
  }
}

function filesUnder(dir: string, pattern: RegExp): string[] {
  return readdirSync(dir, {recursive: true, withFileTypes: true})
    .filter((entry) => entry.isFile() && pattern.test(entry.name))
    .map((entry) => path.join(entry.parentPath, entry.name))
}

/** mulberry32: a small seeded generator, so every run checks the same documents and a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const STRINGS = [
  '', ' ', 'a', 'plain text', 'true', 'True', 'TRUE', 'tRue', 'false', 'null', 'Null', 'NULL', '~', 'yes', 'no', 'on',
  '0', '-0', '+1', '007', '0o17', '0o8', '0x1F', '0xg', '1_000', '1e3', '1E-3', '+1.5e+2', '.5', '5.', '-.inf', '.Inf',
  '.nan', '.NaN', '3.14', '1.0', '-2.50', '12345678901234567890', '1.7976931348623157e309', '#hash', 'a #b', 'a#b',
  'key: value', 'key:value', '- dash', '-', '--', '---', '...', '?', '? q', ':', 'x:', '[a]', '{a: b}', '"quoted"',
  "'single'", "it's", 'back\\slash', 'line\nbreak', 'two\n\nbreaks', 'trailing newline\n', '\nleading newline',
  ' leading', 'trailing ', '页间书店', '动力健身PLUS', 'emoji 😀', '${env:X}', '$${', '@at', '`tick', '%pct', '&anchor',
  '*alias', '!tag', '|', '>', '|-', 'a\u0085b', 'x\u2028y', 'é', 'cr\r\nlf', 'nul\u0000byte', 'bell\u0007',
  'https://wxpaylogo.qpic.cn/wxpaylogo/PiajxSqBRaEIPAeia7Imvts/0?a=1&b=2#frag', '021-6288-5566', '#1E88E5',
  'wx5c2e8a0f3d7b9146', '/pages/member/index', 'a: b: c', 'long '.repeat(60),
]
const KEYS = [
  'a', 'b', 'name', 'title', 'spec', 'metadata', 'kind', 'apiVersion', 'brand_id', 'card_title', 'custom_field_list',
  '__proto__', 'constructor', 'toString', 'hasOwnProperty', '<<', '1', '0x1', 'true', 'null', '~', '', ' ', 'with space',
  'colon:x', 'colon: x', 'k#', '#k', '-k', '? k', '"q"', "'q'", '页间', 'k'.repeat(1100), '[k]', '{k}', 'k,', '&k', '*k',
]

function pick<T>(next: () => number, items: readonly T[]): T {
  return items[Math.floor(next() * items.length)]!
}

function generateValue(next: () => number, depth: number): unknown {
  const roll = next()
  if (depth > 0 && roll < 0.2) {
    const map: Record<string, unknown> = {}
    const size = Math.floor(next() * 5)
    for (let i = 0; i < size; i++) {
      Object.defineProperty(map, pick(next, KEYS), {value: generateValue(next, depth - 1), enumerable: true, writable: true, configurable: true})
    }
    return map
  }
  if (depth > 0 && roll < 0.35) return Array.from({length: Math.floor(next() * 4)}, () => generateValue(next, depth - 1))
  if (roll < 0.7) return pick(next, STRINGS)
  if (roll < 0.8) return pick(next, [0, -0, 1, -1, 42, 1000 + Math.floor(next() * 9000), 3.5, -0.25, 1e21, 1e-7, NaN, Infinity, -Infinity])
  if (roll < 0.9) return pick(next, [true, false, null])
  return `${pick(next, STRINGS)}${pick(next, STRINGS)}`
}

function generateOptions(next: () => number): ToStringOptions {
  return {
    defaultStringType: pick(next, ['PLAIN', 'PLAIN', 'QUOTE_DOUBLE', 'QUOTE_SINGLE', 'BLOCK_LITERAL', 'BLOCK_FOLDED'] as const),
    defaultKeyType: pick(next, [null, 'PLAIN', 'QUOTE_DOUBLE', 'QUOTE_SINGLE'] as const),
    collectionStyle: pick(next, ['any', 'any', 'block', 'flow'] as const),
    flowCollectionPadding: next() < 0.5,
    indent: pick(next, [2, 2, 3, 4]),
    indentSeq: next() < 0.7,
    lineWidth: pick(next, [0, 20, 40, 80]),
    minContentWidth: pick(next, [0, 10, 20]),
    doubleQuotedAsJSON: next() < 0.2,
    blockQuote: pick(next, [true, false, 'literal', 'folded'] as const),
  }
}

/** One to three documents, sometimes with comments, blank lines, explicit `---` and CRLF line ends. */
function generateText(next: () => number): string {
  const documents = Array.from({length: 1 + Math.floor(next() * 3)}, () => {
    const value = {
      apiVersion: 'cardform/v1',
      kind: pick(next, ['MemberCard', 'BrandMemberCard']),
      metadata: {name: `card-${Math.floor(next() * 1000)}`},
      spec: generateValue(next, 4),
      ...(next() < 0.5 ? {extra: generateValue(next, 3)} : {}),
    }
    return stringify(next() < 0.15 ? generateValue(next, 3) : value, generateOptions(next))
  })
  let text = documents.map((doc, i) => (i === 0 && next() < 0.5 ? doc : `---${next() < 0.2 ? ' # doc' : ''}\n${doc}`)).join('')
  if (next() < 0.4) {
    const lines = text.split('\n')
    for (let i = 0; i < 3; i++) {
      const at = Math.floor(next() * lines.length)
      const comment = pick(next, ['# comment', '  # indented comment', '', '   ', '#', '#no-space'])
      if (next() < 0.5) lines.splice(at, 0, comment)
      else if (lines[at] !== undefined && lines[at] !== '') lines[at] += pick(next, [' # trailing', '  #', '#tight'])
    }
    text = lines.join('\n')
  }
  if (next() < 0.1) text = text.replace(/\n/g, '\r\n')
  return text
}

const MUTATIONS = [' ', '  ', '\n', '\t', ':', ': ', '-', '- ', '#', ' #', "'", '"', '\\', '[', ']', '{', '}', ',', '&a ', '*a', '!!str ', '!x ', '|', '>', '?', '? ', '%', '@', '---\n', '...\n', 'x', '0', '.', 'e', '\r']

function mutate(text: string, next: () => number): string {
  let result = text
  const edits = 1 + Math.floor(next() * 3)
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(next() * (result.length + 1))
    const roll = next()
    if (roll < 0.5) result = result.slice(0, at) + pick(next, MUTATIONS) + result.slice(at)
    else if (roll < 0.8) result = result.slice(0, at) + result.slice(at + 1 + Math.floor(next() * 3))
    else result = result.slice(0, at) + pick(next, MUTATIONS) + result.slice(at + 1)
  }
  return result
}

const EDGE_CASES = [
  'a: 1\n',
  'a: 1\na: 2\n',
  'a: 1\n"a": 2\n',
  '1: a\n"1": b\n',
  '__proto__: {polluted: 1}\n',
  'constructor: x\ntoString: y\n',
  '<<: {a: 1}\nb: 2\n',
  'a: &x 1\nb: *x\n',
  'a: !!str 1\n',
  'a: !custom 1\n',
  '%YAML 1.1\n---\na: yes\n',
  '--- a\n',
  '--- |\n  text\n',
  '---\n---\n',
  '---\n',
  '',
  '# only a comment\n',
  'a: 1\n...\n',
  'a: 1\n...\n---\nb: 2\n',
  '? a\n: 1\n',
  '? [a]\n: 1\n',
  '[a, b]: c\n',
  'a:\n  b: 1\n c: 2\n',
  'a: b: c\n',
  'a: - b\n',
  'a:\n- b\n- c\n',
  'a: [b, c\n',
  'a: [b, c,]\n',
  'a: [, b]\n',
  'a: [b,, c]\n',
  'a: [b\n  , c]\n',
  'a: [b, # comment\n  c]\n',
  'a: {b: 1, b: 2}\n',
  'a: {b: 1, c}\n',
  'a: {b:1}\n',
  'a: [b: 1]\n',
  'a: [[1, 2], {x: y}]\n',
  'a: {}\nb: []\n',
  'a: |\n  keep\n\n\nb: 1\n',
  'a: |+\n  keep\n\n\nb: 1\n',
  'a: |-\n  strip\n\n',
  'a: >\n  folded\n  line\n\n    more indented\n  back\n',
  'a: |2\n    indented\n',
  'a: |\n text\n  more\n',
  'a: |\n\n  leading blank\n',
  'a: |\n    \n  less\n',
  'a: |x\n  bad header\n',
  'a: | # comment\n  x\n',
  'a: |#bad\n  x\n',
  'a: "esc \\t \\u00e9 \\x41 \\U0001F600 \\/ \\N \\_ \\L \\P"\n',
  'a: "bad \\q escape"\n',
  'a: "line\n  folded\n\n  para"\n',
  "a: 'it''s'\n",
  "a: 'multi\n  line'\n",
  'a: "unterminated\n',
  'a: plain\n  continued\n\n  para\n',
  'a: 1 #comment\n',
  'a: 1#not comment\n',
  'a: "x"#bad\n',
  'a:#x\n',
  'a: [b]#c\n',
  'a: {b: c}#c\n',
  'a: [b] #c\n',
  '---#c\na: 1\n',
  '--- #c\na: 1\n',
  'a:\n  #c\n  b: 1\n',
  'a:\n  - 1\n  # trailing\n',
  'a:\n  - 1\n  # middle\n  - 2\n',
  '# c\nb: 1\n# trailing\n',
  'a:\n\tb: 1\n',
  'a: 1\t# tab\n',
  '\ufeffa: 1\n',
  'a: 1\r\nb:\r\n  - x\r\n',
  'a: 0o17\nb: 0x1F\nc: 1e3\nd: .inf\ne: -.Inf\nf: .NaN\ng: -0\nh: 0.0\ni: +12\nj: 007\n',
  'a: ~\nb: null\nc:\nd: Null\ne: NULL\nf: nULL\n',
  'a: True\nb: FALSE\nc: yes\nd: On\n',
  'a: 12345678901234567890123\n',
  '- a\n- - b\n  - c\n- d: e\n  f: g\n',
  '-\n- \n-  # c\n',
  '- [a]\n- {b: c}\n',
  'a:\n  - b: 1\n    c: 2\n  - d\n',
  `${'k'.repeat(1030)}: v\n`,
  `a: ${'x'.repeat(2000)}\nb: 1\n`,
  `a:\n  b: ${'x'.repeat(2000)}\nc: 1\n`,
  'a: @x\n',
  'a: `x\n',
  'a: %x\n',
  'a: ,x\n',
  'a: x]\n',
  '"a\nb": 1\n',
  'a\nb: 1\n',
  '"": empty key\n',
  ': no key\n',
  'a: [b, "c d", \'e\', 1, true, null, ~]\n',
  'a: {"b": 1, \'c\': 2, 3: 4}\n',
  'a: "\\\\"\n',
  'a: 页间书店 # 注释\n',
  'a: 😀\n',
  'a: "x" "y"\n',
  'key: value\n  bad: indent\n',
  '  a: 1\n  b: 2\n',
  '- a\nb: 1\n',
  '[a, b]\n',
  '{a: 1}\n',
  'plain scalar document\n',
  '"quoted document"\n',
  '|\n  block document\n',
  '42\n',
]

describe('the YAML fast path', () => {
  // Mutated documents make yaml's toJS warn about collection keys on every run; the warnings are not under test.
  const emitWarning = process.emitWarning
  beforeAll(() => void (process.emitWarning = () => undefined))
  afterAll(() => void (process.emitWarning = emitWarning))

  it('gives the same values and diagnostics as the composer for every fixture, example and golden file', () => {
    const files = [
      ...filesUnder(path.join(repoRoot, 'test/fixtures'), /\.(ya?ml|json)$/),
      ...filesUnder(path.join(repoRoot, 'examples'), /\.ya?ml$/),
      ...filesUnder(path.join(repoRoot, 'test/golden'), /\.(ya?ml|json)$/),
    ]
    expect(files.length).toBeGreaterThan(20)
    let fast = 0
    for (const file of files) {
      const result = compare(readFileSync(file, 'utf8'))
      expect(result.problem, file).toBeUndefined()
      if (result.fast) fast++
    }
    // The plain fixtures and examples must actually take the fast path, or this test proves nothing.
    expect(fast).toBeGreaterThan(10)
  })

  it('gives the same values and diagnostics as the composer for hand-written edge cases', () => {
    for (const text of EDGE_CASES) {
      expect(compare(text).problem, JSON.stringify(text)).toBeUndefined()
      expect(compare(text.replace(/\n/g, '\r\n')).problem, JSON.stringify(text)).toBeUndefined()
    }
  })

  it('gives the same values and diagnostics as the composer for 3,000 generated documents and 3,000 mutations of them', () => {
    const next = random(0x5eed)
    const counts = {generated: 0, generatedFast: 0, mutated: 0, mutatedFast: 0}
    for (let i = 0; i < 3000; i++) {
      const text = generateText(next)
      const result = compare(text)
      expect(result.problem).toBeUndefined()
      counts.generated++
      if (result.fast) counts.generatedFast++
      const mutated = compare(mutate(text, next))
      expect(mutated.problem).toBeUndefined()
      counts.mutated++
      if (mutated.fast) counts.mutatedFast++
    }
    // Both paths must be exercised in earnest: most generated documents are simple, and mutations hit both sides.
    expect(counts.generatedFast).toBeGreaterThan(counts.generated / 3)
    expect(counts.mutatedFast).toBeGreaterThan(counts.mutated / 10)
    expect(counts.mutatedFast).toBeLessThan(counts.mutated)
  })

  it('gives positions from the full parse for a document that took the fast path', () => {
    const text = 'apiVersion: cardform/v1\nkind: MemberCard\nmetadata:\n  name: gold\nspec:\n  title: 金卡\n'
    const [fastDoc] = parseYamlDocuments(text, 'card.yaml', LOADER_LIMITS).documents
    const [composedDoc] = parseYamlDocuments(text, 'card.yaml', LOADER_LIMITS, {simple: false}).documents
    expect(simpleDocumentValues(text, [...new Parser().parse(text)])).toBeDefined()
    expect(fastDoc!.positions()).toEqual(composedDoc!.positions())
    expect(fastDoc!.positions().nodes.get('spec\u0000title')).toEqual([text.indexOf('title'), text.indexOf('金卡')])
  })
})
