import {readFileSync} from 'node:fs'
import path from 'node:path'
import type {ValidateFunction} from 'ajv'
import {createAjv} from '../spec/ajv.js'
import {schemasDir} from '../paths.js'
import {STATE_VERSION, type StateDocument} from '../model/state.js'
import {StateCorruptError, StateVersionError} from './errors.js'

let validator: ValidateFunction | undefined

function validate(): ValidateFunction {
  if (!validator) {
    const schema = JSON.parse(readFileSync(path.join(schemasDir, 'state.schema.json'), 'utf8')) as object
    validator = createAjv().compile(schema)
  }
  return validator
}

/**
 * Parse and check a state document. Throws StateCorruptError / StateVersionError; never repairs. `backup` names
 * where the store keeps the previous version, for the message.
 */
export function parseState(text: string, location: string, backup?: string): StateDocument {
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (e) {
    throw new StateCorruptError(location, `not valid JSON (${printable((e as Error).message)})`, backup)
  }
  return checkState(doc, location, backup)
}

/** Check a parsed document (e.g. a document with its journal folded in) against the state schema; never repairs. */
export function checkState(doc: unknown, location: string, backup?: string): StateDocument {
  const version = (doc as {version?: unknown} | null)?.version
  if (typeof version === 'number' && version > STATE_VERSION) throw new StateVersionError(location, version, STATE_VERSION, backup)
  const v = validate()
  if (!v(doc)) {
    // A property name's errors name the key (params.propertyName), or the message would not say which one is wrong.
    const first = v.errors
      ?.slice(0, 3)
      .map((e) => `${e.instancePath || '/'}${e.propertyName === undefined ? '' : ` key ${JSON.stringify(e.propertyName)}`} ${e.message}`)
      .join('; ')
    throw new StateCorruptError(location, `does not match the state schema: ${first}`, backup)
  }
  return doc as StateDocument
}

export function serializeState(doc: StateDocument): string {
  return JSON.stringify(doc, null, 2) + '\n'
}

/**
 * JSON.parse quotes the text around the error: from a damaged file that may be control characters (an escape
 * sequence a terminal would act on) or bytes that are not UTF-8. They are shown escaped.
 */
function printable(message: string): string {
  return message.replace(/[\u0000-\u001f\u007f-\u009f\ufffd]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}
