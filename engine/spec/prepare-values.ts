import type {Finding} from './finding.js'
import {formatFieldPath} from './source-map.js'

/**
 * Interpolation of `${env:NAME}` (the process environment) and `${var.NAME}` (--var-file/--var, see variables.ts) in
 * string scalars, with `$${` as the escape for a literal `${`. Any other `${` is an error rather than text, so a
 * mistyped `${ENV:X}` or `${var.}` cannot slip through to the API.
 */
const TOKEN = /\$\$\{|\$\{([^}]*)\}?/g
const REFERENCE = /^(?:env:([A-Za-z_][A-Za-z0-9_]*)|var\.([A-Za-z_][A-Za-z0-9_-]*))$/
/** A string that is one `${var.NAME}` and nothing else: it takes the variable's own type (number, boolean). */
const WHOLE_VAR = /^\$\{var\.([A-Za-z_][A-Za-z0-9_-]*)\}$/

export type Environment = Readonly<Record<string, string | undefined>>

/** A variable's value as a var file gives it: a YAML scalar. */
export type VariableValue = string | number | boolean

/** What `${…}` may refer to. Plain data, so it crosses to the loader's worker threads unchanged. */
export interface InterpolationSource {
  env: Environment
  /** Variable values by name; undefined when no --var-file or --var was given. */
  vars?: Readonly<Record<string, VariableValue>> | undefined
  /** How to name where variables come from in a `var-missing` message, e.g. `envs/prod.yaml`. */
  varOrigin?: string | undefined
}

export interface PreparedValue {
  value: unknown
  findings: Finding[]
  /** The names of the variables referenced (found or not), for the `var-unused` check. */
  usedVariables: string[]
}

/**
 * Walks one document's value: interpolates environment references, refuses characters outside the Basic
 * Multilingual Plane (the API accepts only 1–3-byte UTF-8, reference §5 general rules), and bounds the depth again
 * on the resolved value, since aliases may nest (or even refer to themselves) beyond what the text shows.
 * The input (yaml's fresh toJS output) is updated in place and returned.
 */
export function prepareValue(input: unknown, source: InterpolationSource, maxDepth: number): PreparedValue {
  const findings: Finding[] = []
  const used = new Set<string>()
  let tooDeep = false

  // One mutable path for the whole walk; findings take a copy. The value is yaml's fresh toJS output, owned by
  // the caller, so strings are replaced in place rather than copying every mapping.
  const path: (string | number)[] = []
  const visit = (value: unknown): unknown => {
    if (path.length > maxDepth) {
      if (!tooDeep) {
        tooDeep = true
        findings.push({
          severity: 'error',
          code: 'nesting-limit',
          message: `${formatFieldPath(path.slice(0, 2)) || 'the document'}: nesting (through aliases) is deeper than ${maxDepth} levels`,
          path: path.slice(0, maxDepth),
          target: 'value',
        })
      }
      return value
    }
    if (typeof value === 'string') return value.includes('${') || hasSurrogate(value) ? prepareString(value, [...path], source, findings, used) : value
    if (typeof value === 'number' && !Number.isSafeInteger(value) && (Number.isInteger(value) || !Number.isFinite(value))) {
      // YAML reads 1e400 as Infinity and 18446744073709551616 as the nearest double: neither is what was written,
      // and JSON.stringify would send Infinity as null. Fractions (0.1) are left to the schema.
      findings.push({
        severity: 'error',
        code: 'number-range',
        message: `${formatFieldPath(path)}: ${Number.isFinite(value) ? `an integer beyond ±${Number.MAX_SAFE_INTEGER} cannot be kept exactly` : 'a number too large to represent (it reads as Infinity)'}; quote it if it is an ID`,
        path: [...path],
        target: 'value',
      })
      return value
    }
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length && !tooDeep; i++) {
        path.push(i)
        value[i] = visit(value[i])
        path.pop()
      }
    } else if (value !== null && typeof value === 'object') {
      const record = value as Record<string, unknown>
      for (const key of Object.keys(record)) {
        if (tooDeep) break
        path.push(key)
        record[key] = visit(record[key])
        path.pop()
      }
    }
    return value
  }

  const value = visit(input)
  return {value, findings, usedVariables: [...used]}
}

function prepareString(text: string, path: (string | number)[], source: InterpolationSource, findings: Finding[], used: Set<string>): unknown {
  const whole = WHOLE_VAR.exec(text)
  if (whole) {
    const name = whole[1]!
    used.add(name)
    const found = lookUpVariable(name, path, source, findings)
    return found === undefined ? text : typeof found === 'string' ? checkAstral(found, path, findings) : found
  }
  let result = text
  if (text.includes('${')) {
    result = text.replace(TOKEN, (whole, inner: string | undefined) => {
      if (whole === '$${') return '${'
      const reference = REFERENCE.exec(inner ?? '')
      const where = formatFieldPath(path)
      if (!reference || !whole.endsWith('}')) {
        findings.push({
          severity: 'error',
          code: 'env-syntax',
          message: `${where}: ${JSON.stringify(whole)} is not a valid interpolation; write \${env:NAME} or \${var.NAME}, or $\${ for a literal "\${"`,
          path,
          target: 'value',
        })
        return whole
      }
      if (reference[2] !== undefined) {
        used.add(reference[2])
        const found = lookUpVariable(reference[2], path, source, findings)
        return found === undefined ? whole : String(found)
      }
      const name = reference[1]!
      // Own variables only: `${env:constructor}` or `${env:__proto__}` must not read the prototype chain (process.env
      // and plain copies of it inherit from Object.prototype).
      const found = Object.hasOwn(source.env, name) ? source.env[name] : undefined
      if (found === undefined) {
        findings.push({
          severity: 'error',
          code: 'env-missing',
          message: `${where}: environment variable ${name} is not set (referenced as \${env:${name}})`,
          path,
          target: 'value',
        })
        return whole
      }
      return found
    })
  }
  return checkAstral(result, path, findings)
}

/** The variable's value, or undefined after a `var-missing` finding. */
function lookUpVariable(name: string, path: (string | number)[], source: InterpolationSource, findings: Finding[]): VariableValue | undefined {
  const found = source.vars && Object.hasOwn(source.vars, name) ? source.vars[name] : undefined
  if (found !== undefined) return found
  const from = source.vars === undefined ? 'no --var-file or --var was given' : `it is not defined in ${source.varOrigin ?? 'the variables given'}`
  findings.push({
    severity: 'error',
    code: 'var-missing',
    message: `${formatFieldPath(path)}: variable ${name} is not set (referenced as \${var.${name}}): ${from}`,
    path,
    target: 'value',
  })
  return undefined
}

function checkAstral(result: string, path: (string | number)[], findings: Finding[]): string {
  const astral = firstAstral(result)
  if (astral !== undefined) {
    const codePoint = astral.codePointAt(0)!.toString(16).toUpperCase()
    findings.push({
      severity: 'error',
      code: 'astral-character',
      message: `${formatFieldPath(path)}: contains "${astral}" (U+${codePoint}), a 4-byte UTF-8 character; the WeChat Pay API accepts only 1–3-byte characters (no emoji)`,
      path,
      target: 'value',
    })
  }
  return result
}

/** The first code point above U+FFFF (a surrogate pair in UTF-16), if any. */
function firstAstral(text: string): string | undefined {
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i)
    if (unit >= 0xd800 && unit <= 0xdbff) return String.fromCodePoint(text.codePointAt(i)!)
  }
  return undefined
}

function hasSurrogate(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i)
    if (unit >= 0xd800 && unit <= 0xdfff) return true
  }
  return false
}
