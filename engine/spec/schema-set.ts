import {readFileSync} from 'node:fs'
import path from 'node:path'
import {KIND_NAMES, loadKindSchemas, type JsonSchema} from '../model/schema-semantics.js'
import {schemasDir} from '../paths.js'

/** The JSON Schemas the loader validates against: one per card kind, and the project configuration's. */
export interface SchemaSet {
  kinds: ReadonlyMap<string, JsonSchema>
  config: JsonSchema
}

/** The package's schemas/ (or another folder laid out the same way). */
export function readSchemaSet(dir: string = schemasDir): SchemaSet {
  const byKind = loadKindSchemas(dir)
  const kinds = new Map<string, JsonSchema>(KIND_NAMES.map((kind) => [kind, byKind[kind]]))
  const config = JSON.parse(readFileSync(path.join(dir, 'config.schema.json'), 'utf8')) as JsonSchema
  return {kinds, config}
}
