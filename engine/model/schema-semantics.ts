import {readFileSync} from 'node:fs'
import path from 'node:path'
import {schemasDir} from '../paths.js'

/**
 * Field semantics as data. The kind schemas in schemas/ declare, with `x-cardform-*` keywords, which spec fields are
 * immutable, one-way, server-computed, write-only, managed, defaulted by the server, long text or keyed lists; this
 * module reads those declarations so the diff and plan code never hard-code a field list (style.md convention 4).
 */

/** Every card kind and the schema file that describes it (in schemas/). */
export const KIND_FILES = {
  MemberCard: 'member-card.schema.json',
  BrandMemberCard: 'brand-member-card.schema.json',
  AggregatorMemberCard: 'aggregator-member-card.schema.json',
} as const

export type KindName = keyof typeof KIND_FILES
export const KIND_NAMES = Object.keys(KIND_FILES) as KindName[]

export type Family = 'membercard-open' | 'brand-partner' | 'aggregator'
/** How a card leaves WeChat Pay when its spec is removed: DELETE, POST …/invalidate, or not at all. */
export type RemoveMode = 'delete' | 'invalidate' | 'none'

/** A parsed JSON Schema node. Only plain JSON: objects, arrays, strings, numbers, booleans, null. */
export type JsonSchema = {readonly [keyword: string]: unknown}

/** One condition of a conditional immutability: the change forces replacement when the old value equals `from`
 * (if given) and the new value equals `to` (if given). */
export interface ImmutableWhen {
  from?: unknown
  to?: unknown
}

export interface FieldSemantics {
  /** A change forces replacement: always (`true`) or only for the listed transitions. */
  immutable?: true | {when: ImmutableWhen[]}
  /** The field may move to `on` but never away from it (a boolean `true` keyword means `{on: true}`). */
  oneWay?: {on: unknown}
  /** Set by the server; never in a spec and never diffed. */
  serverComputed?: true
  /** Not readable back with GET: compared against state, not live. */
  writeOnly?: true
  /** Accepted by the PATCH call only, not by create: a new card gets it through a PATCH right after the create. */
  patchOnly?: true
  /** Filled in by cardform itself (out_request_no); rejected in a spec. */
  managed?: true
  /** The value the server uses when the field is omitted (may be `false` or `0`; presence is what matters). */
  serverDefault?: unknown
  /** Rendered as a line diff. */
  longText?: true
  /** Array items are identified by this key, not by index. */
  listKey?: string
  /** Applied through a separate endpoint (e.g. `rights`: PATCH …/cards/{id}/rights), not the card PATCH. */
  endpoint?: string
  /** The card's name as people see it (title, card_title): what `cardform query` names an imported card after. */
  title?: true
  /** An image field: it may name a local file (`{file: …}`), checked against these documented limits and uploaded. */
  image?: ImageRules
  /** The card's review (审核) status: the values that mean in review, failed and approved (x-cardform-review). */
  review?: ReviewValues
}

/** The API values of a review status field, by what they mean (x-cardform-review). */
export interface ReviewValues {
  pending: readonly string[]
  failed: readonly string[]
  approved: readonly string[]
}

function parseReviewValues(v: unknown, where: string): ReviewValues {
  const list = (x: unknown) => Array.isArray(x) && x.length > 0 && x.every((i) => typeof i === 'string')
  if (!isObject(v) || !list(v.pending) || !list(v.failed) || !list(v.approved)) {
    throw new KindSchemaError(`x-cardform-review must be {pending: [...], failed: [...], approved: [...]}: ${where}`)
  }
  return {pending: v.pending as string[], failed: v.failed as string[], approved: v.approved as string[]}
}

/** The documented limits of an image field (x-cardform-image). */
export interface ImageRules {
  formats: ReadonlyArray<'jpg' | 'png' | 'bmp'>
  max_bytes: number
  width?: number
  height?: number
  /** `required`: other pixel sizes are errors; `recommended`: warnings. */
  pixels?: 'required' | 'recommended'
}

export interface KindSemantics {
  kind: KindName
  family: Family
  remove: RemoveMode
  /** No update call exists: a created card cannot be changed by cardform. */
  createOnly: boolean
  /** Status of a successful PATCH: 204 (no body: read back with GET) or 200 (the full card). Absent when createOnly. */
  patchResponse?: 200 | 204
  /**
   * Keyed by the dotted path inside `spec`, e.g. `balance_information.need_balance`. Items of an array are
   * addressed with `[]`, e.g. `user_information_form.custom_field_list[].name`. Only fields that declare at least
   * one keyword appear.
   */
  fields: Map<string, FieldSemantics>
  /** Every field path the spec schema declares (`brand`, `brand.brand_id`, …), with or without semantics; array items are not included. */
  paths: Set<string>
}

/** A kind schema is missing, unreadable or declares its semantics wrongly. Always cardform's own bug. */
export class KindSchemaError extends Error {
  override name = 'KindSchemaError'
}

function isObject(value: unknown): value is JsonSchema {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Resolve a local `#/definitions/...` reference; the kind schemas are self-contained, so no other form is valid. */
export function resolveRef(root: JsonSchema, node: JsonSchema, where: string): JsonSchema {
  const ref = node.$ref
  if (ref === undefined) return node
  if (typeof ref !== 'string' || !ref.startsWith('#/')) {
    throw new KindSchemaError(`only local $ref is supported: ${where} ($ref ${JSON.stringify(ref)})`)
  }
  let target: unknown = root
  for (const part of ref.slice(2).split('/')) {
    const key = part.replaceAll('~1', '/').replaceAll('~0', '~')
    target = isObject(target) ? target[key] : undefined
  }
  if (!isObject(target)) throw new KindSchemaError(`unresolved $ref ${ref}: ${where}`)
  return resolveRef(root, target, where)
}

function flag(value: unknown, keyword: string, where: string): true {
  if (value !== true) throw new KindSchemaError(`${keyword} must be true: ${where}`)
  return true
}

function text(value: unknown, keyword: string, where: string): string {
  if (typeof value !== 'string' || value === '') throw new KindSchemaError(`${keyword} must be a non-empty string: ${where}`)
  return value
}

function parseImmutable(value: unknown, where: string): NonNullable<FieldSemantics['immutable']> {
  if (value === true) return true
  if (isObject(value) && Array.isArray(value.when) && value.when.length > 0) {
    const when = value.when.map((item: unknown): ImmutableWhen => {
      if (!isObject(item) || !('from' in item || 'to' in item)) {
        throw new KindSchemaError(`x-cardform-immutable.when items need "from" or "to": ${where}`)
      }
      const condition: ImmutableWhen = {}
      if ('from' in item) condition.from = item.from
      if ('to' in item) condition.to = item.to
      return condition
    })
    return {when}
  }
  throw new KindSchemaError(`x-cardform-immutable must be true or {when: [...]}: ${where}`)
}

function parseOneWay(value: unknown, where: string): {on: unknown} {
  if (value === true) return {on: true}
  if (isObject(value) && 'on' in value) return {on: value.on}
  throw new KindSchemaError(`x-cardform-one-way must be true or {on: value}: ${where}`)
}

function parseImageRules(v: unknown, where: string): ImageRules {
  const formats = ['jpg', 'png', 'bmp']
  const ok =
    isObject(v) &&
    Array.isArray(v.formats) &&
    v.formats.length > 0 &&
    v.formats.every((f) => formats.includes(f as string)) &&
    Number.isInteger(v.max_bytes) &&
    (v.width === undefined || Number.isInteger(v.width)) &&
    (v.height === undefined || Number.isInteger(v.height)) &&
    (v.width === undefined) === (v.height === undefined) &&
    (v.pixels === undefined || v.pixels === 'required' || v.pixels === 'recommended')
  if (!ok) throw new KindSchemaError(`x-cardform-image must be {formats: [jpg|png|bmp…], max_bytes, width?, height?, pixels?}: ${where}`)
  return v as unknown as ImageRules
}

/** Read the keywords of one property. Keywords beside a `$ref` win over those of its target. */
function readField(nodes: readonly JsonSchema[], where: string): FieldSemantics {
  const field: FieldSemantics = {}
  for (const node of [...nodes].reverse()) {
    if ('x-cardform-immutable' in node) field.immutable = parseImmutable(node['x-cardform-immutable'], where)
    if ('x-cardform-one-way' in node) field.oneWay = parseOneWay(node['x-cardform-one-way'], where)
    if ('x-cardform-server-computed' in node) field.serverComputed = flag(node['x-cardform-server-computed'], 'x-cardform-server-computed', where)
    if ('x-cardform-write-only' in node) field.writeOnly = flag(node['x-cardform-write-only'], 'x-cardform-write-only', where)
    if ('x-cardform-patch-only' in node) field.patchOnly = flag(node['x-cardform-patch-only'], 'x-cardform-patch-only', where)
    if ('x-cardform-managed' in node) field.managed = flag(node['x-cardform-managed'], 'x-cardform-managed', where)
    if ('x-cardform-server-default' in node) field.serverDefault = node['x-cardform-server-default']
    if ('x-cardform-long-text' in node) field.longText = flag(node['x-cardform-long-text'], 'x-cardform-long-text', where)
    if ('x-cardform-list-key' in node) field.listKey = text(node['x-cardform-list-key'], 'x-cardform-list-key', where)
    if ('x-cardform-endpoint' in node) field.endpoint = text(node['x-cardform-endpoint'], 'x-cardform-endpoint', where)
    if ('x-cardform-title' in node) field.title = flag(node['x-cardform-title'], 'x-cardform-title', where)
    if ('x-cardform-image' in node) field.image = parseImageRules(node['x-cardform-image'], where)
    if ('x-cardform-review' in node) field.review = parseReviewValues(node['x-cardform-review'], where)
  }
  return field
}

/**
 * Walk the `properties` tree under `spec` (through `$ref` and array `items`). Conditional subschemas (`if`/`then`,
 * `allOf`) are not walked: semantics belong to a field's own declaration, never to a rule about other fields.
 */
function walkProperties(
  root: JsonSchema,
  node: JsonSchema,
  prefix: string,
  kind: string,
  fields: Map<string, FieldSemantics>,
  depth: number,
  paths?: Set<string>,
): void {
  if (depth > 32) throw new KindSchemaError(`schema nests deeper than 32 levels (a $ref cycle?): ${kind} spec.${prefix}`)
  const properties = node.properties
  if (properties === undefined) return
  if (!isObject(properties)) throw new KindSchemaError(`properties must be an object: ${kind} spec.${prefix}`)
  for (const [name, raw] of Object.entries(properties)) {
    if (!isObject(raw)) continue // `false` or `true` schemas carry no semantics
    const fieldPath = prefix === '' ? name : `${prefix}.${name}`
    const where = `${kind} spec.${fieldPath}`
    const target = resolveRef(root, raw, where)
    const field = readField(target === raw ? [raw] : [raw, target], where)
    if (Object.keys(field).length > 0) fields.set(fieldPath, field)
    paths?.add(fieldPath)
    walkProperties(root, target, fieldPath, kind, fields, depth + 1, paths)
    if (isObject(target.items)) {
      walkProperties(root, resolveRef(root, target.items, where), `${fieldPath}[]`, kind, fields, depth + 1)
    }
  }
}

const FAMILIES: readonly Family[] = ['membercard-open', 'brand-partner', 'aggregator']
const REMOVE_MODES: readonly RemoveMode[] = ['delete', 'invalidate', 'none']

/** The semantics declared by one kind schema. Throws KindSchemaError when the declarations are malformed. */
export function readKindSemantics(schema: JsonSchema): KindSemantics {
  const properties = isObject(schema.properties) ? schema.properties : {}
  const kindNode = properties.kind
  const kind = isObject(kindNode) ? kindNode.const : undefined
  if (typeof kind !== 'string' || !(kind in KIND_FILES)) {
    throw new KindSchemaError(`properties.kind.const must name a known kind: schema ${String(schema.$id)}`)
  }
  const declared = schema['x-cardform-kind']
  if (!isObject(declared)) throw new KindSchemaError(`x-cardform-kind is missing: ${kind}`)
  const {family, remove, create_only: createOnly, patch_response: patchResponse} = declared
  if (!FAMILIES.includes(family as Family)) throw new KindSchemaError(`x-cardform-kind.family is not one of ${FAMILIES.join(', ')}: ${kind}`)
  if (!REMOVE_MODES.includes(remove as RemoveMode)) throw new KindSchemaError(`x-cardform-kind.remove is not one of ${REMOVE_MODES.join(', ')}: ${kind}`)
  if (typeof createOnly !== 'boolean') throw new KindSchemaError(`x-cardform-kind.create_only must be a boolean: ${kind}`)
  if (patchResponse !== undefined && patchResponse !== 200 && patchResponse !== 204) {
    throw new KindSchemaError(`x-cardform-kind.patch_response must be 200 or 204: ${kind}`)
  }
  if (!createOnly && patchResponse === undefined) throw new KindSchemaError(`x-cardform-kind.patch_response is required unless create_only: ${kind}`)

  const specNode = properties.spec
  if (!isObject(specNode)) throw new KindSchemaError(`properties.spec is missing: ${kind}`)
  const fields = new Map<string, FieldSemantics>()
  const paths = new Set<string>()
  walkProperties(schema, resolveRef(schema, specNode, `${kind} spec`), '', kind, fields, 0, paths)

  const semantics: KindSemantics = {kind: kind as KindName, family: family as Family, remove: remove as RemoveMode, createOnly, fields, paths}
  if (patchResponse !== undefined) semantics.patchResponse = patchResponse
  return semantics
}

/** Read every kind schema from `dir` (default: the package's schemas/), keyed by kind name. */
export function loadKindSchemas(dir: string = schemasDir): Record<KindName, JsonSchema> {
  const schemas: Partial<Record<KindName, JsonSchema>> = {}
  for (const kind of KIND_NAMES) {
    const file = path.join(dir, KIND_FILES[kind])
    let parsed: unknown
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'))
    } catch (error) {
      throw new KindSchemaError(`cannot read the ${kind} schema: ${file} (${(error as Error).message})`)
    }
    const kindNode = isObject(parsed) && isObject(parsed.properties) ? parsed.properties.kind : undefined
    if (!isObject(parsed) || !isObject(kindNode) || kindNode.const !== kind) {
      throw new KindSchemaError(`schema does not describe kind ${kind}: ${file}`)
    }
    schemas[kind] = parsed
  }
  return schemas as Record<KindName, JsonSchema>
}

let cachedDefault: Record<KindName, KindSemantics> | undefined

/** The semantics of the package's own schemas, read once per process. */
export function defaultKindSemantics(): Record<KindName, KindSemantics> {
  return (cachedDefault ??= loadKindSemantics())
}

/** The semantics of every kind, read from `dir` (default: the package's schemas/). */
export function loadKindSemantics(dir: string = schemasDir): Record<KindName, KindSemantics> {
  const schemas = loadKindSchemas(dir)
  const result: Partial<Record<KindName, KindSemantics>> = {}
  for (const kind of KIND_NAMES) result[kind] = readKindSemantics(schemas[kind])
  return result as Record<KindName, KindSemantics>
}
