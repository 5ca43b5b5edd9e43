import {readFileSync} from 'node:fs'
import path from 'node:path'
import type {ErrorObject, ValidateFunction} from 'ajv'
import {createAjv} from '../../../engine/spec/ajv.js'
import {packageRoot, schemasDir} from '../../../engine/paths.js'
import {KIND_FILES, type KindName} from '../../../engine/model/schema-semantics.js'

/** Shared by the schema tests: compiled validators and a readable form of ajv's errors. */

const ajv = createAjv()
const compiled = new Map<string, ValidateFunction>()

export function readSchema(file: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path.join(schemasDir, file), 'utf8')) as Record<string, unknown>
}

export function validatorFor(file: string): ValidateFunction {
  let validate = compiled.get(file)
  if (!validate) {
    validate = ajv.compile(readSchema(file))
    compiled.set(file, validate)
  }
  return validate
}

export function readFixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path.join(packageRoot, 'test', 'fixtures', 'seeds', name), 'utf8')) as Record<string, unknown>
}

/** A whole document of `kind` around `spec`. */
export function documentOf(kind: KindName, spec: unknown, name = 'test-card'): Record<string, unknown> {
  return {apiVersion: 'cardform/v1', kind, metadata: {name}, spec}
}

/**
 * ajv's errors as short sentences such as `/spec required init_level` or `/spec/title maxLength`. The `if` keyword's
 * own "must match then schema" and the wrapper errors of anyOf are dropped: the errors of the failing branch say
 * what is wrong.
 */
export function describeErrors(errors: readonly ErrorObject[] | null | undefined): string[] {
  return (errors ?? [])
    .filter((e) => e.keyword !== 'if')
    .map((e) => {
      const params = e.params as Record<string, unknown>
      const detail = params.missingProperty ?? params.additionalProperty ?? ''
      return `${e.instancePath} ${e.keyword}${detail === '' ? '' : ` ${String(detail)}`}`
    })
    .sort()
}

/** Validate a document and describe its errors ([] when valid). */
export function problems(kind: KindName, document: unknown): string[] {
  const validate = validatorFor(KIND_FILES[kind])
  return validate(document) ? [] : describeErrors(validate.errors)
}

/** Problems of a spec wrapped in a document of `kind`. */
export function specProblems(kind: KindName, spec: unknown): string[] {
  return problems(kind, documentOf(kind, spec))
}

export function clone<T>(value: T): T {
  return structuredClone(value)
}
