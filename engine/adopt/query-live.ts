import {mkdir, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {formatAddress, type Address} from '../model/address.js'
import type {Diagnostic} from '../model/diagnostic.js'
import {KIND_FILES, KIND_NAMES, loadKindSchemas, loadKindSemantics, type KindName, type KindSemantics} from '../model/schema-semantics.js'
import type {StateDocument} from '../model/state.js'
import type {ListedCard, ListScope} from '../providers/gateway.js'
import {brandIdOf} from '../providers/wires.js'
import {createDefaultSpecValidator} from '../spec/default-validator.js'
import type {SpecDocument} from '../spec/load-project.js'
import type {Workspace} from '../workspace.js'
import {checkSpecFileText, renderSpecFile} from './spec-file.js'
import {projectSchemaRef, writeProjectSchemas} from '../spec/project-schemas.js'
import {namePatternOf, proposeNames, specFromLive, titleOf} from './spec-from-live.js'

/**
 * `cardform query`: list every live card the configured API families can list, keep the ones nothing in the project
 * accounts for, and turn each into a spec document that adopts it (metadata.import_id). Reads only: list calls, no
 * GET per card, no change.
 */

export interface QueryOptions {
  /** Kinds to look for; every kind when absent. */
  kinds?: readonly string[]
  /** Brands to list besides those the specs and state name (the brand partner family lists one brand at a time). */
  brandIds?: readonly string[]
  /** Write `out/<Kind>/<name>.yaml` for each card found; an existing file is never overwritten. */
  out?: string
}

/** A live card no spec or state entry accounts for, with the document that would adopt it. */
export interface FoundCard {
  kind: string
  name: string
  card_id: string
  title: string
  /** The file written (under `out`), when one was. */
  file?: string
  spec: Record<string, unknown>
}

/**
 * Why a listed card is not offered: `gone` (deleted, invalidated), `in-state` (a card cardform manages, or the old
 * card of a replacement), `create-interrupted` (an apply journaled its create and stopped before recording the id),
 * `import-pending` (a spec's metadata.import_id names it already).
 */
export type SkipReason = 'gone' | 'in-state' | 'create-interrupted' | 'import-pending'

export interface SkippedCard {
  kind: string
  card_id: string
  title: string
  reason: SkipReason
  /** What the API said (`status DELETED`), or the address that accounts for the card. */
  detail: string
}

export interface QueryResult {
  cards: FoundCard[]
  skipped: SkippedCard[]
  /** `kind-not-listable`, `brand-id-unknown`, `unknown-fields-dropped`, `spec-invalid`, `file-exists`. */
  warnings: Diagnostic[]
}

/** What query needs of the gateway (WechatPayGateway has it). */
export interface CardLister {
  canList(kind: string): boolean
  listScope(kind: string): ListScope
  listCards(kind: string, scope?: {brandId?: string}): Promise<ListedCard[]>
}

export interface ListedOfKind {
  kind: string
  card: ListedCard
}

export async function queryLive(ws: Workspace, opts: QueryOptions = {}): Promise<QueryResult> {
  const kinds = KIND_NAMES.filter((k) => !opts.kinds || opts.kinds.includes(k))
  const warnings: Diagnostic[] = []
  const gateway = await ws.gateway()
  const brandIds = brandsToList(ws.project.documents, await ws.store.read(), gateway, opts.brandIds)
  const listed = await listKinds(gateway, kinds, brandIds, warnings)
  // Read again after listing, without a lock: apply journals a create (out_request_no) before its POST, so any card
  // a concurrent apply made in time to be listed is in this state, as created or as a journaled create.
  const state = await ws.store.read()
  const semantics = loadKindSemantics()
  const {unmanaged, skipped} = sortOutListed(listed, state, ws.project.documents, semantics)
  // The spec files' $schema lines point at the project's own copy of the schemas, so they resolve wherever the project is.
  if (opts.out !== undefined && unmanaged.length > 0) await writeProjectSchemas(ws.dir)
  const cards = await adoptCards(unmanaged, takenNames(ws.project.documents, state), semantics, opts.out, warnings, ws.dir)
  return {cards, skipped, warnings}
}

/** The brands to list: those given, and every brand_id of a brand-scoped kind in the specs and the state. */
export function brandsToList(
  documents: readonly SpecDocument[],
  state: StateDocument | null,
  lister: Pick<CardLister, 'canList' | 'listScope'>,
  given: readonly string[] = [],
): string[] {
  const scoped = (kind: string) => KIND_NAMES.includes(kind as KindName) && lister.canList(kind) && lister.listScope(kind) === 'brand'
  const ids = new Set(given)
  for (const d of documents) if (scoped(d.kind)) ids.add(brandIdOf(d.spec) ?? '')
  for (const r of Object.values(state?.resources ?? {})) if (scoped(r.kind)) ids.add(brandIdOf(r.applied) ?? '')
  ids.delete('')
  return [...ids].sort()
}

async function listKinds(lister: CardLister, kinds: readonly string[], brandIds: readonly string[], warnings: Diagnostic[]): Promise<ListedOfKind[]> {
  const listings: Promise<ListedOfKind[]>[] = []
  for (const kind of kinds) {
    if (!lister.canList(kind)) {
      warnings.push(warning('kind-not-listable', `${kind}: skipped; its API has no list or GET call, so cards made outside cardform cannot be found`))
      continue
    }
    const scopes = lister.listScope(kind) === 'brand' ? brandIds.map((brandId) => ({brandId})) : [{}]
    if (scopes.length === 0) {
      warnings.push(
        warning(
          'brand-id-unknown',
          `${kind}: not listed; the brand partner API lists the cards of one brand_id at a time, and no spec or state names one (pass --brand-id ID)`,
        ),
      )
    }
    // Kinds and brands are listed side by side; the pages of one listing follow each other (the rate limiter paces all).
    for (const scope of scopes) listings.push(lister.listCards(kind, scope).then((cards) => cards.map((card) => ({kind, card}))))
  }
  const seen = new Set<string>()
  return (await Promise.all(listings)).flat().filter(({kind, card}) => {
    const key = `${kind}\u0000${card.remoteId}`
    return seen.has(key) ? false : (seen.add(key), true)
  })
}

/**
 * Sorts listed cards into those nothing accounts for (oldest first, then by card_id) and those skipped, with why.
 * Pure.
 */
export function sortOutListed(
  listed: readonly ListedOfKind[],
  state: StateDocument | null,
  documents: readonly SpecDocument[],
  semantics: Readonly<Record<KindName, KindSemantics>>,
): {unmanaged: ListedOfKind[]; skipped: SkippedCard[]} {
  const byRemoteId = new Map<string, Address>()
  const journaled = new Map<string, Address>()
  for (const [address, r] of Object.entries(state?.resources ?? {})) {
    if (r.remote_id) byRemoteId.set(`${r.kind}\u0000${r.remote_id}`, address)
    if (r.deposed) byRemoteId.set(`${r.kind}\u0000${r.deposed}`, address)
    if (r.status === 'creating') journaled.set(`${r.kind}\u0000${r.out_request_no}`, address)
  }
  const imports = new Map(documents.filter((d) => d.importId).map((d) => [`${d.kind}\u0000${d.importId}`, d.address]))
  const unmanaged: ListedOfKind[] = []
  const skipped: SkippedCard[] = []
  for (const entry of listed) {
    const {kind, card} = entry
    const sem = semantics[kind as KindName]
    const key = `${kind}\u0000${card.remoteId}`
    // The managed field (out_request_no) is the create's idempotency key: a journaled create is recognised by it.
    const managedKey = [...sem.fields].find(([p, f]) => f.managed && !p.includes('.'))?.[0]
    const requestNo = managedKey ? card.object[managedKey] : undefined
    const skip = (reason: SkipReason, detail: string) => skipped.push({kind, card_id: card.remoteId, title: titleOf(sem, card.object), reason, detail})
    if (card.gone) skip('gone', card.gone)
    else if (byRemoteId.has(key)) skip('in-state', byRemoteId.get(key)!)
    else if (typeof requestNo === 'string' && journaled.has(`${kind}\u0000${requestNo}`)) skip('create-interrupted', journaled.get(`${kind}\u0000${requestNo}`)!)
    else if (imports.has(key)) skip('import-pending', imports.get(key)!)
    else unmanaged.push(entry)
  }
  const created = (e: ListedOfKind) => String(e.card.object.create_time ?? '')
  unmanaged.sort(
    (a, b) =>
      KIND_NAMES.indexOf(a.kind as KindName) - KIND_NAMES.indexOf(b.kind as KindName) ||
      compare(created(a), created(b)) ||
      compare(a.card.remoteId, b.card.remoteId),
  )
  return {unmanaged, skipped}
}

/** Names each kind already uses: the specs' and the state's (a card removed from the specs keeps its address until applied). */
export function takenNames(documents: readonly SpecDocument[], state: StateDocument | null): Map<string, Set<string>> {
  const taken = new Map<string, Set<string>>()
  const add = (kind: string, name: string) => (taken.get(kind) ?? taken.set(kind, new Set()).get(kind)!).add(name)
  for (const d of documents) add(d.kind, d.name)
  for (const r of Object.values(state?.resources ?? {})) add(r.kind, r.name)
  return taken
}

async function adoptCards(
  unmanaged: readonly ListedOfKind[],
  taken: Map<string, Set<string>>,
  semantics: Readonly<Record<KindName, KindSemantics>>,
  out: string | undefined,
  warnings: Diagnostic[],
  projectDir: string,
): Promise<FoundCard[]> {
  const schemas = loadKindSchemas()
  const validator = createDefaultSpecValidator()
  const titles = unmanaged.map(({kind, card}) => titleOf(semantics[kind as KindName], card.object))
  const requests = unmanaged.map(({kind, card}, i) => ({kind, cardId: card.remoteId, title: titles[i]!}))
  // metadata.name has the same pattern in every kind schema (test/unit/adopt/names.test.ts).
  const names = proposeNames(requests, taken, namePatternOf(schemas.MemberCard))
  const cards: FoundCard[] = []
  for (const [i, {kind, card}] of unmanaged.entries()) {
    const name = names[i]!
    const address = formatAddress(kind, name)
    const conversion = specFromLive(schemas[kind as KindName], semantics[kind as KindName], card.object)
    const found: FoundCard = {kind, name, card_id: card.remoteId, title: titles[i]!, spec: conversion.spec}
    const at = `${address} (card ${card.remoteId})`
    if (conversion.unknown.length > 0) {
      warnings.push(warning('unknown-fields-dropped', `${at}: left out fields the ${kind} schema does not know: ${conversion.unknown.join(', ')}`, address))
    }
    const file = path.join(out ?? '.', kind, `${name}.yaml`)
    const schemaRef = projectSchemaRef(projectDir, file, KIND_FILES[kind as KindName])
    const text = renderSpecFile({kind, name, cardId: card.remoteId, title: found.title, ...conversion}, schemaRef)
    const problems = checkSpecFileText(text, `${kind}/${name}.yaml`, validator).filter((d) => d.severity === 'error')
    if (problems.length > 0) {
      const list = problems.map((d) => d.message).join('; ')
      warnings.push(warning('spec-invalid', `${at}: the generated spec does not validate (fix it by hand before planning): ${list}`, address))
    }
    if (out !== undefined) {
      await mkdir(path.dirname(file), {recursive: true})
      try {
        // `wx`: create only. An existing file (a run before, or a person's) is never overwritten.
        await writeFile(file, text, {flag: 'wx'})
        found.file = file
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
        warnings.push(warning('file-exists', `${at}: ${file} exists already; not overwritten, this card is not written`, address))
      }
    }
    cards.push(found)
  }
  return cards
}

function warning(code: string, message: string, address?: string): Diagnostic {
  return {severity: 'warning', code, message, ...(address ? {address} : {})}
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
