import {statSync} from 'node:fs'
import path from 'node:path'
import {isMap, isScalar, parseDocument} from 'yaml'
import type {Diagnostic, SourcePosition} from '../model/diagnostic.js'
import {readBounded} from './check-file.js'
import {LOADER_LIMITS} from './limits.js'
import type {VariableValue} from './prepare-values.js'
import {linePosition} from './source-map.js'

/**
 * Per-environment values for `${var.NAME}` (as Terraform's -var-file and -var): one repository, one var file per
 * environment (`--var-file envs/prod.yaml`). A var file is a YAML mapping of NAME → scalar; files are read in the
 * order given and a later file, then a later `--var NAME=VALUE`, wins.
 */
export interface VariableInputs {
  /** --var-file paths: absolute, or relative to the project directory. */
  files?: readonly string[]
  /** --var NAME=VALUE; VALUE is read as a YAML scalar (`5` a number, `true` a boolean, `'5'` a string). */
  assignments?: readonly string[]
}

export interface Variables {
  values: Record<string, VariableValue>
  /** Where each variable's winning value was written: a var file position, or undefined for --var. */
  definedAt: Record<string, SourcePosition | undefined>
  /** Where the values came from, for messages: `envs/prod.yaml, --var`. */
  origin: string
}

export const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/

/** Reads the var files and --var assignments. Problems become diagnostics (with file:line:column); nothing throws. */
export function loadVariables(dir: string, inputs: VariableInputs): {variables: Variables | undefined; diagnostics: Diagnostic[]} {
  const files = inputs.files ?? []
  const assignments = inputs.assignments ?? []
  if (files.length === 0 && assignments.length === 0) return {variables: undefined, diagnostics: []}
  const values: Record<string, VariableValue> = Object.create(null) as Record<string, VariableValue>
  const definedAt: Record<string, SourcePosition | undefined> = Object.create(null) as Record<string, SourcePosition | undefined>
  const diagnostics: Diagnostic[] = []
  const base = path.resolve(dir)
  for (const given of files) {
    const absolute = path.resolve(base, given)
    // Named as the project's other files are: relative to the project directory, never an absolute machine path.
    const file = path.relative(base, absolute).split(path.sep).join('/') || given
    if (!isFile(absolute)) {
      diagnostics.push({severity: 'error', code: 'var-file-missing', message: `var file ${file} does not exist`})
      continue
    }
    const text = readBounded(absolute, file, LOADER_LIMITS, diagnostics)
    if (text !== undefined) readVarFile(text, file, values, definedAt, diagnostics)
  }
  for (const assignment of assignments) {
    const eq = assignment.indexOf('=')
    const name = eq === -1 ? assignment : assignment.slice(0, eq)
    if (eq === -1 || !VARIABLE_NAME.test(name)) {
      diagnostics.push({severity: 'error', code: 'var-invalid', message: `--var ${JSON.stringify(assignment)}: write --var NAME=VALUE, NAME of letters, digits, _ and -`})
      continue
    }
    const value = scalarOf(assignment.slice(eq + 1))
    if (value === undefined) {
      diagnostics.push({severity: 'error', code: 'var-invalid', message: `--var ${name}: the value must be a string, number or boolean`})
      continue
    }
    values[name] = value
    definedAt[name] = undefined
  }
  const origin = [...files.map((f) => path.relative(base, path.resolve(base, f)).split(path.sep).join('/') || f), ...(assignments.length ? ['--var'] : [])].join(', ')
  return {variables: {values: {...values}, definedAt, origin}, diagnostics}
}

/**
 * `var-unused` warnings for variables the project never references: a misspelt name in a var file would otherwise be
 * silently ignored. A warning, not an error (as Terraform warns for a value of an undeclared variable in a file), so
 * one var file may serve a project whose staging specs use fewer variables than production's.
 */
export function unusedVariables(variables: Variables, used: ReadonlySet<string>): Diagnostic[] {
  return Object.keys(variables.values)
    .filter((name) => !used.has(name))
    .sort()
    .map((name) => {
      const at = variables.definedAt[name]
      return {
        severity: 'warning' as const,
        code: 'var-unused',
        message: `variable ${name} is ${at ? 'defined' : 'set with --var'} but no spec or cardform.yaml references \${var.${name}}`,
        ...(at ? {source: at} : {}),
      }
    })
}

function readVarFile(
  text: string,
  file: string,
  values: Record<string, VariableValue>,
  definedAt: Record<string, SourcePosition | undefined>,
  diagnostics: Diagnostic[],
): void {
  const doc = parseDocument(text, {prettyErrors: false, uniqueKeys: true})
  const lineStarts = [0]
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) lineStarts.push(i + 1)
  const at = (offset: number | undefined): SourcePosition => ({file, ...linePosition(lineStarts, offset ?? 0)})
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!
    diagnostics.push({severity: 'error', code: 'var-file-invalid', message: `${file}: ${e.message.split('\n')[0]}`, source: at(e.pos[0])})
    return
  }
  if (doc.contents === null) return // an empty file defines nothing
  if (!isMap(doc.contents)) {
    diagnostics.push({severity: 'error', code: 'var-file-invalid', message: `${file} must be a mapping of variable names to values (NAME: value)`, source: at(doc.contents.range?.[0])})
    return
  }
  for (const pair of doc.contents.items) {
    const key = isScalar(pair.key) ? pair.key.value : undefined
    const keyOffset = isScalar(pair.key) ? pair.key.range?.[0] : undefined
    const keyAt = at(keyOffset)
    if (typeof key !== 'string' || !VARIABLE_NAME.test(key)) {
      diagnostics.push({severity: 'error', code: 'var-file-invalid', message: `${file}: ${JSON.stringify(key ?? null)} is not a variable name (letters, digits, _ and -, not starting with a digit)`, source: keyAt})
      continue
    }
    const value = isScalar(pair.value) ? pair.value.value : undefined
    if (typeof value !== 'string' && typeof value !== 'boolean' && !(typeof value === 'number' && Number.isFinite(value))) {
      diagnostics.push({
        severity: 'error',
        code: 'var-file-invalid',
        message: `${file}: variable ${key} must be a string, number or boolean, not ${value === null || value === undefined ? (isScalar(pair.value) ? 'null' : 'a list or mapping') : typeof value}`,
        source: at((pair.value as {range?: [number]} | null)?.range?.[0] ?? keyOffset),
      })
      continue
    }
    values[key] = value
    definedAt[key] = keyAt
  }
}

/** A --var value read as a YAML scalar; undefined for anything else (a list, a mapping, null). */
function scalarOf(text: string): VariableValue | undefined {
  try {
    const doc = parseDocument(text, {prettyErrors: false})
    if (doc.errors.length > 0) return text
    const value: unknown = doc.toJS()
    if (value === null || value === undefined) return text === '' ? '' : undefined
    if (typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) return value
    return undefined
  } catch {
    return text
  }
}

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile()
  } catch {
    return false
  }
}
