import type {Ajv, ValidateFunction} from 'ajv'
import {createAjv} from './ajv.js'
import {didYouMean} from './did-you-mean.js'
import {explainSchemaErrors} from './explain-schema-errors.js'
import {quote, type Finding} from './finding.js'
import {readKindSemantics} from '../model/schema-semantics.js'
import type {SchemaSet} from './schema-set.js'
import {formatFieldPath} from './source-map.js'

export const API_VERSION = 'cardform/v1'

/**
 * Validates documents against the kind schemas, each compiled once (compiling is the expensive part; validating a card
 * is microseconds). Order of checks per document: the envelope (`apiVersion`, `kind`), which decides the schema;
 * then the kind's schema, all errors at once; then fields the user may not set.
 */
export interface SpecValidator {
  readonly kinds: readonly string[]
  checkDocument(value: unknown): Finding[]
  checkConfig(value: unknown): Finding[]
}

interface KindRules {
  validate: ValidateFunction
  serverComputed: string[][]
  managed: string[][]
}

/** The ajv instance validators are compiled with, here and ahead of time (precompile-validators.ts). */
export function createValidatorAjv(): Ajv {
  const ajv = createAjv()
  // The explanations need each error's data and parent schema. `verbose` is read when code is generated, and
  // nothing has been compiled on this instance yet, so setting it here is equivalent to passing it to the constructor.
  ajv.opts.verbose = true
  return ajv
}

/**
 * Validation functions compiled ahead of time, by kind and `config`; see precompile-validators.ts. Only for the
 * schema set they were compiled from: the package's own.
 */
export type PrecompiledValidators = Readonly<Record<string, ValidateFunction>>

export function createSpecValidator(schemas: SchemaSet, precompiled?: PrecompiledValidators): SpecValidator {
  let compiler: Ajv | undefined
  const compile = (name: string, schema: object): ValidateFunction =>
    precompiled?.[name] ?? (compiler ??= createValidatorAjv()).compile(schema)
  // Each schema is compiled when first needed: compiling is most of a small project's load time, and a loader
  // worker thread or a config check needs only some of them.
  const rules = new Map<string, KindRules>()
  const rulesFor = (kind: string): KindRules => {
    let rule = rules.get(kind)
    if (rule) return rule
    const schema = schemas.kinds.get(kind)!
    const fields = [...readKindSemantics(schema).fields]
    const pathsWhere = (test: (semantics: (typeof fields)[number][1]) => boolean) =>
      fields.filter(([, semantics]) => test(semantics)).map(([dotted]) => ['spec', ...dotted.replace(/\[\]/g, '.[]').split('.')])
    rule = {
      validate: compile(kind, schema),
      serverComputed: pathsWhere((s) => s.serverComputed === true),
      managed: pathsWhere((s) => s.managed === true),
    }
    rules.set(kind, rule)
    return rule
  }
  let validateConfig: ValidateFunction | undefined
  const kinds = [...schemas.kinds.keys()].sort()

  return {
    kinds,
    checkDocument(value) {
      const envelope = checkEnvelope(value, kinds)
      if (envelope.length > 0) return envelope
      const kind = (value as {kind: string}).kind
      const rule = rulesFor(kind)
      const findings = rule.validate(value) ? [] : explainSchemaErrors(rule.validate.errors ?? [], value)
      const reported = new Set(findings.map((f) => f.path.join('.')))
      const forbid = (paths: string[][], code: string, why: string) => {
        for (const path of paths) {
          for (const concrete of presentPaths(value, path)) {
            if (reported.has(concrete.join('.'))) continue
            findings.push({severity: 'error', code, message: `${formatFieldPath(concrete)} is ${why}; remove it from the spec`, path: concrete, target: 'key'})
          }
        }
      }
      forbid(rule.serverComputed, 'server-computed-field', 'set by the server')
      forbid(rule.managed, 'managed-field', 'managed by cardform')
      return findings
    },
    checkConfig(value) {
      validateConfig ??= compile('config', schemas.config)
      if (validateConfig(value)) return []
      return explainSchemaErrors(validateConfig.errors ?? [], value).map((finding) => ({...finding, code: 'config-invalid'}))
    },
  }
}

function checkEnvelope(value: unknown, kinds: readonly string[]): Finding[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return [
      {
        severity: 'error',
        code: 'schema-type',
        message: `the document is ${quote(value)}; expected a mapping with apiVersion, kind, metadata and spec`,
        path: [],
        target: 'value',
      },
    ]
  }
  const doc = value as Record<string, unknown>
  const findings: Finding[] = []
  if (!('apiVersion' in doc)) {
    findings.push({severity: 'error', code: 'schema-required', message: `apiVersion is required (apiVersion: ${API_VERSION})`, path: ['apiVersion'], target: 'key'})
  } else if (doc.apiVersion !== API_VERSION) {
    const hint = typeof doc.apiVersion === 'string' ? didYouMean(doc.apiVersion, [API_VERSION]) : ''
    findings.push({
      severity: 'error',
      code: 'unknown-api-version',
      message: `apiVersion: ${quote(doc.apiVersion)} is not a known version; this cardform reads ${API_VERSION}${hint}`,
      path: ['apiVersion'],
      target: 'value',
    })
  }
  if (!('kind' in doc)) {
    findings.push({severity: 'error', code: 'schema-required', message: `kind is required (one of ${kinds.join(', ')})`, path: ['kind'], target: 'key'})
  } else if (typeof doc.kind !== 'string' || !kinds.includes(doc.kind)) {
    const hint = typeof doc.kind === 'string' ? didYouMean(doc.kind, kinds) : ''
    findings.push({
      severity: 'error',
      code: 'unknown-kind',
      message: `kind: ${quote(doc.kind)} is not one of ${kinds.join(', ')}${hint}`,
      path: ['kind'],
      target: 'value',
    })
  }
  return findings
}

/** Concrete paths in `value` matching a pattern whose `[]` segments stand for every array item. */
function presentPaths(value: unknown, pattern: readonly string[]): (string | number)[][] {
  let current: Array<{node: unknown; path: (string | number)[]}> = [{node: value, path: []}]
  for (const segment of pattern) {
    const next: typeof current = []
    for (const {node, path} of current) {
      if (segment === '[]') {
        if (Array.isArray(node)) node.forEach((item, index) => next.push({node: item, path: [...path, index]}))
      } else if (node !== null && typeof node === 'object' && !Array.isArray(node) && Object.hasOwn(node, segment)) {
        next.push({node: (node as Record<string, unknown>)[segment], path: [...path, segment]})
      }
    }
    current = next
  }
  return current.map((entry) => entry.path)
}
