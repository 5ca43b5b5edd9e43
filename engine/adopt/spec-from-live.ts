import {isPlainObject, valuesEqual} from '../diff/values.js'
import {resolveRef, type JsonSchema, type KindSemantics} from '../model/schema-semantics.js'

/**
 * A live card (what the list and GET calls return) turned into the `spec` of a document that adopts it. Which fields
 * stay is decided by the kind schema alone: its properties (in their order) and their `x-cardform-*` semantics.
 * Pure: no I/O.
 */
export interface LiveConversion {
  spec: Record<string, unknown>
  /** Fields the live card has that the kind schema does not declare, dropped (dotted; `[]` for list items). */
  unknown: string[]
  /** Fields left out because the server sets them, cardform manages them, or they hold the server's default. */
  omitted: string[]
  /**
   * Write-only fields (`x-cardform-write-only`) the spec lacks: GET never returns them, so their values are unknown.
   * Only the outermost of nested ones, and only where the object holding them is in the spec.
   */
  notReadable: string[]
  /** One-way fields inside the not-readable ones: whoever fills them in should know they never switch off. */
  notReadableOneWay: string[]
}

/** The kind schema's `spec` node, resolved. */
export function specSchemaOf(root: JsonSchema): JsonSchema {
  const properties = root.properties as Record<string, JsonSchema> | undefined
  const spec = properties?.spec
  if (!spec) throw new Error(`kind schema ${String(root.$id)} has no spec property`)
  return resolveRef(root, spec, 'spec')
}

export function specFromLive(root: JsonSchema, semantics: KindSemantics, live: Record<string, unknown>): LiveConversion {
  const unknown = new Set<string>()
  const omitted = new Set<string>()

  const convert = (node: JsonSchema, value: unknown, at: string): unknown => {
    if (Array.isArray(value)) {
      const items = isPlainObject(node.items) ? resolveRef(root, node.items, at) : undefined
      return items ? value.map((item) => convert(items, item, `${at}[]`)) : structuredClone(value)
    }
    const properties = isPlainObject(node.properties) ? (node.properties as Record<string, unknown>) : undefined
    if (!isPlainObject(value) || !properties) return structuredClone(value)
    const out: Record<string, unknown> = {}
    // The schema's order first: a generated file reads like a hand-written one.
    for (const [key, child] of Object.entries(properties)) {
      if (!Object.hasOwn(value, key) || value[key] === null || value[key] === undefined) continue
      const path = at === '' ? key : `${at}.${key}`
      const field = semantics.fields.get(path)
      const isDefault = field !== undefined && 'serverDefault' in field && valuesEqual(field.serverDefault, value[key])
      if (field?.serverComputed || field?.managed || isDefault) {
        omitted.add(path)
        continue
      }
      out[key] = isPlainObject(child) ? convert(resolveRef(root, child, path), value[key], path) : structuredClone(value[key])
    }
    for (const key of Object.keys(value)) {
      if (Object.hasOwn(properties, key)) continue
      if (node.additionalProperties === false) unknown.add(at === '' ? key : `${at}.${key}`)
      else if (value[key] !== null && value[key] !== undefined) out[key] = structuredClone(value[key])
    }
    return out
  }

  const specSchema = specSchemaOf(root)
  const spec = convert(specSchema, live, '') as Record<string, unknown>
  const notReadable = unreadable(root, specSchema, semantics, spec)
  const notReadableOneWay = [...semantics.fields]
    .filter(([path, field]) => field.oneWay && notReadable.some((outer) => path.startsWith(`${outer}.`)))
    .map(([path]) => path)
  return {spec, unknown: [...unknown], omitted: [...omitted], notReadable, notReadableOneWay}
}

/**
 * The write-only fields the spec could hold but does not: outermost ones only, whose holder object is in the spec,
 * and not ruled out there by the schema's conditions (wait_days_after_receive on a PERMANENT card, say).
 */
function unreadable(root: JsonSchema, specSchema: JsonSchema, semantics: KindSemantics, spec: Record<string, unknown>): string[] {
  const writeOnly = [...semantics.fields].filter(([path, field]) => field.writeOnly && !path.includes('[]')).map(([path]) => path)
  return writeOnly.filter((path) => {
    if (writeOnly.some((outer) => path.startsWith(`${outer}.`))) return false
    const parts = path.split('.')
    const key = parts[parts.length - 1]!
    let holder: unknown = spec
    let node: JsonSchema | undefined = specSchema
    for (const part of parts.slice(0, -1)) {
      holder = isPlainObject(holder) ? holder[part] : undefined
      const child: unknown = isPlainObject(node?.properties) ? (node.properties as Record<string, unknown>)[part] : undefined
      node = isPlainObject(child) ? resolveRef(root, child, path) : undefined
    }
    return isPlainObject(holder) && !Object.hasOwn(holder, key) && !(node && forbiddenBy(node, holder, key))
  })
}

/**
 * Whether one of the node's `allOf` rules of the form `if {properties: {x: {const | not const}}, required} then
 * {properties: {key: false}}` forbids `key` for this value. Rules of other shapes are taken as not forbidding.
 */
function forbiddenBy(node: JsonSchema, value: Record<string, unknown>, key: string): boolean {
  const rules = Array.isArray(node.allOf) ? (node.allOf as unknown[]) : []
  return rules.some((rule) => {
    if (!isPlainObject(rule) || !isPlainObject(rule.if) || !isPlainObject(rule.then)) return false
    const then = rule.then.properties
    if (!isPlainObject(then) || then[key] !== false) return false
    const required = Array.isArray(rule.if.required) ? (rule.if.required as string[]) : []
    if (!required.every((name) => Object.hasOwn(value, name))) return false
    const conditions = isPlainObject(rule.if.properties) ? Object.entries(rule.if.properties) : []
    return conditions.every(([name, condition]) => {
      if (!isPlainObject(condition)) return false
      if ('const' in condition) return valuesEqual(value[name], condition.const)
      if (isPlainObject(condition.not) && 'const' in condition.not) return !valuesEqual(value[name], condition.not.const)
      return false
    })
  })
}

/** metadata.name's pattern, as the kind schema declares it. */
export function namePatternOf(root: JsonSchema): RegExp {
  const properties = root.properties as Record<string, JsonSchema> | undefined
  const metadata = properties?.metadata ? resolveRef(root, properties.metadata, 'metadata') : undefined
  const name = (metadata?.properties as Record<string, JsonSchema> | undefined)?.name
  if (typeof name?.pattern !== 'string') throw new Error(`kind schema ${String(root.$id)} declares no metadata.name pattern`)
  return new RegExp(name.pattern, 'u')
}

/** The spec field holding the card's name as people see it (`x-cardform-title`), if the kind declares one. */
export function titleOf(semantics: KindSemantics, live: Record<string, unknown>): string {
  const entry = [...semantics.fields].find(([path, field]) => field.title && !path.includes('.'))
  const value = entry ? live[entry[0]] : undefined
  return typeof value === 'string' ? value : ''
}

/** Shortest slug worth keeping as a name; shorter ones (a Chinese title gives '' or a stray letter) use the card_id. */
const MIN_SLUG = 3
const MAX_NAME = 63

/** ASCII letters and digits of the title, lowercased, runs of anything else as one '-'. */
export function slugify(title: string): string {
  return title
    .normalize('NFKD') // fullwidth ＶＩＰ → VIP, é → e + accent
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
}

/** `card` for MemberCard, `brand-card` for BrandMemberCard, `aggregator-card` for AggregatorMemberCard. */
export function kindPrefix(kind: string): string {
  return kind
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .toLowerCase()
    .replace(/(^|-)member-/, '$1')
}

/** The name a card would get with nothing else around: its title's slug, or the kind prefix and the card_id's tail. */
export function baseName(kind: string, cardId: string, title: string): string {
  const slug = trimName(slugify(title).slice(0, MAX_NAME))
  if (slug.length >= MIN_SLUG) return slug
  const tail = cardId.toLowerCase().replace(/[^a-z0-9]/g, '').slice(-8)
  return tail === '' ? kindPrefix(kind) : `${kindPrefix(kind)}-${tail}`
}

export interface NameRequest {
  kind: string
  cardId: string
  title: string
}

/**
 * A name per card, in the order given, unique within its kind: among each other and among `taken` (the names the
 * project and its state already use, by kind). A collision gets `-2`, `-3`, … Every name matches metadata.name's
 * pattern (`pattern`, read from the kind schema by the caller).
 */
export function proposeNames(cards: readonly NameRequest[], taken: ReadonlyMap<string, ReadonlySet<string>>, pattern: RegExp): string[] {
  const used = new Map<string, Set<string>>()
  const usedOf = (kind: string) => {
    let set = used.get(kind)
    if (!set) used.set(kind, (set = new Set(taken.get(kind) ?? [])))
    return set
  }
  return cards.map(({kind, cardId, title}) => {
    const names = usedOf(kind)
    const base = baseName(kind, cardId, title)
    let name = base
    for (let n = 2; names.has(name); n++) {
      const suffix = `-${n}`
      name = `${trimName(base.slice(0, MAX_NAME - suffix.length))}${suffix}`
    }
    if (!pattern.test(name)) throw new Error(`cardform proposed the name "${name}" for ${kind} ${cardId}, which metadata.name refuses (a bug)`)
    names.add(name)
    return name
  })
}

/** A name may not end with '-', '.' or '_' (cutting a slug short can leave one). */
function trimName(text: string): string {
  return text.replace(/[-._]+$/, '')
}
