import type {ErrorObject} from 'ajv'
import {didYouMean, suggest} from './did-you-mean.js'
import {quote, type Finding} from './finding.js'
import {formatFieldPath, type FieldPath} from './source-map.js'

/**
 * Turns ajv's errors (compiled with `allErrors` and `verbose`, so each error carries its data, schema and parent
 * schema) into findings a person understands. ajv reports how validation went, not what the user got wrong:
 * `if`/`then` adds an "if" error after the real ones, and `anyOf` reports every branch that failed. So:
 *   - errors raised inside a `then`/`else` get the condition as a suffix ("... when spec.need_display_level is
 *     true") and the `if` error itself is dropped;
 *   - for `anyOf`/`oneOf` the errors of the branch the value most nearly matches are kept and the rest dropped, or,
 *     when no branch fits at all, one message lists the forms allowed.
 * Errors are processed in ajv's order, which puts inner combinators before outer ones, so nesting works.
 */
export function explainSchemaErrors(errors: readonly ErrorObject[], root: unknown): Finding[] {
  const slots: Slot[] = errors.map((error) => ({error, segments: instanceSegments(error.instancePath, root)}))

  slots.forEach((slot, index) => {
    const {error} = slot
    if (error.keyword === 'if') {
      slot.removed = true
      const branch = error.schemaPath.replace(/\/if$/, `/${(error.params as {failingKeyword: string}).failingKeyword}/`)
      const condition = describeCondition((error.parentSchema as {if?: unknown} | undefined)?.if, slot.segments)
      for (let j = index - 1; j >= 0; j--) {
        const inner = slots[j]!
        if (inner.removed || !isWithin(inner, slot) || !inner.error.schemaPath.startsWith(branch)) continue
        inner.findings = (inner.findings ?? [explainOne(inner)]).map((finding) =>
          condition === '' ? finding : {...finding, message: `${finding.message} when ${condition}`},
        )
      }
    } else if (error.keyword === 'anyOf' || error.keyword === 'oneOf') {
      if (error.keyword === 'oneOf' && (error.params as {passingSchemas?: unknown}).passingSchemas != null) return
      slot.findings = collapseAlternatives(slots, index)
    }
  })

  const seen = new Set<string>()
  const findings: Finding[] = []
  for (const slot of slots) {
    if (slot.removed) continue
    for (const finding of slot.findings ?? [explainOne(slot)]) {
      const key = `${finding.code}\u0000${formatFieldPath(finding.path)}\u0000${finding.message}`
      if (seen.has(key)) continue
      seen.add(key)
      findings.push(finding)
    }
  }
  return findings
}

interface Slot {
  error: ErrorObject
  segments: (string | number)[]
  findings?: Finding[]
  removed?: boolean
}

/** Whether `inner`'s instance lies at or under `outer`'s. */
function isWithin(inner: Slot, outer: Slot): boolean {
  const a = inner.error.instancePath
  const b = outer.error.instancePath
  return a === b || a.startsWith(`${b}/`)
}

/**
 * The branch errors of an anyOf/oneOf are the ones ajv pushed just before it, at or under its instance. A branch
 * error is attributed to a branch by its schema path (`.../anyOf/1/...`, or the `$ref` target of a branch); an
 * error inside a deeper `$ref` inherits the branch of the error before it.
 */
function collapseAlternatives(slots: Slot[], index: number): Finding[] {
  const slot = slots[index]!
  const {error} = slot
  const branches = Array.isArray(error.schema) ? (error.schema as unknown[]) : []
  const parentPath = error.schemaPath.replace(/\/(anyOf|oneOf)$/, '')
  const members: Array<{slot: Slot; branch: number}> = []
  let current = 0
  const firstIndex = (() => {
    let j = index - 1
    while (j >= 0) {
      const inner = slots[j]!
      if (!isWithin(inner, slot)) break
      const path = inner.error.schemaPath
      const sibling = path.startsWith(`${parentPath}/`) && !path.startsWith(`${error.schemaPath}/`)
      if (sibling && parentPath !== '#') break
      j--
    }
    return j + 1
  })()
  for (let j = firstIndex; j < index; j++) {
    const inner = slots[j]!
    if (inner.removed) continue
    const path = inner.error.schemaPath
    const byPath = path.startsWith(`${error.schemaPath}/`) ? Number(path.slice(error.schemaPath.length + 1).split('/')[0]) : NaN
    const byRef = branches.findIndex((branch) => {
      const ref = (branch as {$ref?: unknown} | null)?.$ref
      return typeof ref === 'string' && (path === ref || path.startsWith(`${ref}/`))
    })
    if (Number.isInteger(byPath)) current = byPath
    else if (byRef >= 0) current = byRef
    members.push({slot: inner, branch: current})
    inner.removed = true
  }

  const perBranch = new Map<number, Finding[]>()
  const rawPerBranch = new Map<number, Slot[]>()
  for (const {slot: inner, branch} of members) {
    perBranch.set(branch, [...(perBranch.get(branch) ?? []), ...(inner.findings ?? [explainOne(inner)])])
    rawPerBranch.set(branch, [...(rawPerBranch.get(branch) ?? []), inner])
  }
  const where = formatFieldPath(slot.segments) || 'the document'

  // Every branch only misses required keys here: say which sets of keys would do.
  const allRequired = [...rawPerBranch.values()].every((list) =>
    list.every((s) => s.error.keyword === 'required' && s.error.instancePath === error.instancePath),
  )
  if (allRequired && rawPerBranch.size > 1) {
    const options = [...rawPerBranch.values()].map((list) =>
      list.map((s) => (s.error.params as {missingProperty: string}).missingProperty).join(' and '),
    )
    return [
      {
        severity: 'error',
        code: 'schema-required',
        message: `${where} needs ${options.join(', or ')}`,
        path: slot.segments,
        target: 'key',
      },
    ]
  }

  // A branch "fits" when the value has its type and matches its discriminating constants.
  const fits = [...rawPerBranch.entries()].filter(([, list]) =>
    list.every(
      (s) => !(s.error.keyword === 'type' && s.error.instancePath === error.instancePath) && s.error.keyword !== 'const',
    ),
  )
  if (fits.length > 0) {
    const [bestBranch] = fits.reduce((best, entry) => (entry[1].length < best[1].length ? entry : best))
    return perBranch.get(bestBranch) ?? []
  }
  const expected = new Set<string>()
  for (const list of rawPerBranch.values()) {
    for (const s of list) {
      if (s.error.keyword === 'type') expected.add(article(String((s.error.params as {type: string}).type)))
      if (s.error.keyword === 'const' && s.segments.length > slot.segments.length) {
        expected.add(`${formatFieldPath(s.segments)} = ${JSON.stringify((s.error.params as {allowedValue: unknown}).allowedValue)}`)
      }
    }
  }
  return [
    {
      severity: 'error',
      code: 'schema-type',
      message: `${where}: ${quote(error.data)} matches none of the allowed forms${expected.size > 0 ? ` (${[...expected].join('; ')})` : ''}`,
      path: slot.segments,
      target: 'value',
    },
  ]
}

/** "spec.need_display_level is true" from an `if` schema of const/enum/not-const properties. */
function describeCondition(schema: unknown, base: (string | number)[]): string {
  const properties = (schema as {properties?: Record<string, unknown>} | undefined)?.properties
  if (!properties) return ''
  const parts: string[] = []
  for (const [name, sub] of Object.entries(properties)) {
    const field = formatFieldPath([...base, name])
    const s = sub as {const?: unknown; enum?: unknown[]; not?: {const?: unknown}}
    if ('const' in s) parts.push(`${field} is ${JSON.stringify(s.const)}`)
    else if (Array.isArray(s.enum)) parts.push(`${field} is one of ${s.enum.map((v) => JSON.stringify(v)).join(', ')}`)
    else if (s.not && 'const' in s.not) parts.push(`${field} is not ${JSON.stringify(s.not.const)}`)
  }
  return parts.join(' and ')
}

function explainOne(slot: Slot): Finding {
  const {error, segments} = slot
  const where = formatFieldPath(segments) || 'the document'
  const data = error.data
  const params = error.params as Record<string, unknown>
  const finding = (code: string, message: string, path: FieldPath = segments, target: Finding['target'] = 'value'): Finding => ({
    severity: 'error',
    code,
    message,
    path,
    target,
  })
  const parent = (error.parentSchema ?? {}) as {properties?: Record<string, unknown>; description?: string}

  switch (error.keyword) {
    case 'required':
    case 'dependencies':
    case 'dependentRequired': {
      const missing = String(params.missingProperty)
      const path = [...segments, missing]
      const keys = data !== null && typeof data === 'object' ? Object.keys(data) : []
      const near = suggest(missing, keys.filter((key) => !(parent.properties && key in parent.properties)))
      const because = params.property !== undefined ? ` when ${formatFieldPath([...segments, String(params.property)])} is set` : ''
      const hint = near === undefined ? '' : ` (found "${near}"; is it misspelt?)`
      return finding('schema-required', `${formatFieldPath(path)} is required${because}${hint}`, path, 'key')
    }
    case 'additionalProperties': {
      const key = String(params.additionalProperty)
      const allowed = Object.keys(parent.properties ?? {})
      const suggestion = didYouMean(key, allowed)
      const list = suggestion === '' && allowed.length > 0 && allowed.length <= 15 ? `; allowed keys: ${allowed.join(', ')}` : ''
      return finding('schema-unknown-key', `${formatFieldPath([...segments, key])}: unknown key${suggestion}${list}`, [...segments, key], 'key')
    }
    case 'false schema':
      return finding('schema-forbidden', `${where} may not be set`, segments, 'key')
    case 'not':
      return finding('schema-forbidden', `${where}: ${quote(data)} is not allowed`)
    case 'type':
      return finding('schema-type', `${where}: ${quote(data)} is ${describeValue(data)}; expected ${article(String(params.type))}`)
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]) ?? []
      const words = allowed.map((v) => (typeof v === 'string' ? v : JSON.stringify(v)))
      const hint = typeof data === 'string' ? didYouMean(data, allowed.filter((v): v is string => typeof v === 'string')) : ''
      return finding('schema-enum', `${where}: ${quote(data)} is not one of ${words.join(', ')}${hint}`)
    }
    case 'const':
      return finding('schema-enum', `${where}: ${quote(data)} must be ${JSON.stringify(params.allowedValue)}`)
    case 'maxLength':
    case 'minLength': {
      const length = typeof data === 'string' ? [...data].length : 0
      const limit = Number(params.limit)
      return error.keyword === 'maxLength'
        ? finding('schema-length', `${where}: ${quote(data)} is ${length} characters; the limit is ${limit}`)
        : finding('schema-length', `${where}: ${quote(data)} is ${length} characters; at least ${limit} required`)
    }
    case 'maxItems':
    case 'minItems':
    case 'maxProperties':
    case 'minProperties': {
      const count = Array.isArray(data) ? data.length : data !== null && typeof data === 'object' ? Object.keys(data).length : 0
      const unit = error.keyword.endsWith('Items') ? 'items' : 'keys'
      const bound = error.keyword.startsWith('max') ? `at most ${String(params.limit)}` : `at least ${String(params.limit)}`
      return finding('schema-length', `${where} has ${count} ${unit}; ${bound} allowed`)
    }
    case 'uniqueItems':
      return finding('schema-unique', `${where}: items ${String(params.j)} and ${String(params.i)} are the same; items must be unique`)
    case 'pattern': {
      const about = parent.description ? ` (${parent.description.replace(/\.$/, '')})` : ''
      return finding('schema-pattern', `${where}: ${quote(data)} does not match ${String(params.pattern)}${about}`)
    }
    case 'format': {
      const example = params.format === 'date-time' ? ', e.g. 2030-05-20T13:29:35.120+08:00' : params.format === 'uri' ? ', e.g. https://example.com/a.png' : ''
      return finding('schema-format', `${where}: ${quote(data)} is not a valid ${String(params.format)}${example}`)
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum': {
      const words = {minimum: 'less than the minimum', maximum: 'more than the maximum', exclusiveMinimum: 'not above', exclusiveMaximum: 'not below'}
      return finding('schema-range', `${where}: ${String(data)} is ${words[error.keyword]} ${String(params.limit)}`)
    }
    case 'multipleOf':
      return finding('schema-range', `${where}: ${String(data)} is not a multiple of ${String(params.multipleOf)}`)
    default:
      return finding(`schema-${error.keyword.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`).replace(/\s+/g, '-')}`, `${where}: ${error.message ?? 'is invalid'}`)
  }
}

function describeValue(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'object') return 'a mapping'
  if (typeof value === 'number') return Number.isInteger(value) ? 'an integer' : 'a number'
  return article(typeof value)
}

function article(type: string): string {
  const names: Record<string, string> = {
    string: 'a string',
    integer: 'an integer',
    number: 'a number',
    boolean: 'a boolean (true or false)',
    object: 'a mapping',
    array: 'a list',
    null: 'null',
  }
  return type
    .split(',')
    .map((t) => names[t] ?? t)
    .join(' or ')
}

/** JSON-pointer instance path to segments; indexes into arrays become numbers. */
function instanceSegments(pointer: string, root: unknown): (string | number)[] {
  if (pointer === '') return []
  const segments: (string | number)[] = []
  let node: unknown = root
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~')
    if (Array.isArray(node)) {
      const index = Number(key)
      segments.push(index)
      node = node[index]
    } else {
      segments.push(key)
      node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined
    }
  }
  return segments
}
