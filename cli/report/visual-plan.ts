import type {Address} from '../../engine/model/address.js'
import type {Plan, ResourceChange} from '../../engine/model/plan.js'
import type {StateDocument} from '../../engine/model/state.js'
import {changesSomething, type DesiredCard, type ImportRead, type LiveRead} from '../../engine/plan/compute-plan.js'
import {renderPlanHtml, type CardSides} from '../render/plan-html.js'
import {cardFace, faceImages, type ImageSource} from './card-face.js'
import {resolveImages, type FetchImage} from './images.js'

export interface VisualPlanInput {
  plan: Plan
  desired: readonly DesiredCard[]
  /** The live cards read by the plan's refresh (empty with --refresh=false). */
  live: ReadonlyMap<Address, LiveRead>
  /** The cards named by metadata.import_id, as read. */
  imports?: ReadonlyMap<Address, ImportRead>
  state: StateDocument | null
  /** Local image files are read relative to it. */
  projectDir: string
  /** How image URLs are fetched (default: fetchImageHttp). */
  fetchImage?: FetchImage
}

/**
 * The plan as one self-contained HTML page (`plan --html`): works out each changed card's face before and after,
 * loads the images they show (local files, files the state uploaded, or the URLs themselves) and renders the page.
 */
export async function buildPlanHtml(input: VisualPlanInput): Promise<string> {
  const faces = new Map<Address, CardSides>()
  const desiredBy = new Map(input.desired.map((d) => [d.address, d]))
  for (const c of input.plan.changes.filter(changesSomething)) faces.set(c.address, sidesOf(c, input, desiredBy.get(c.address)))
  const sources: ImageSource[] = [...faces.values()].flatMap((s) => [...faceImages(s.before), ...faceImages(s.after)].map((slot) => slot.source))
  for (const c of input.plan.changes) for (const fc of c.field_changes) if (fc.upload) sources.push({file: fc.upload})
  for (const u of input.plan.uploads ?? []) sources.push({file: u})
  const images = await resolveImages(sources, {
    projectDir: input.projectDir,
    ...(input.state?.media ? {media: input.state.media} : {}),
    ...(input.fetchImage ? {fetchImage: input.fetchImage} : {}),
  })
  return renderPlanHtml({plan: input.plan, faces, images})
}

/**
 * Before: the live card (with the write-only blocks state keeps, since GET cannot return them), or the card as last
 * applied when it was not read, or the card an import adopts. After: the spec, for every action that leaves a managed
 * card behind.
 */
function sidesOf(c: ResourceChange, input: VisualPlanInput, desired: DesiredCard | undefined): CardSides {
  const sides: CardSides = {}
  const stateAddress = c.moved_from && input.state?.resources[c.moved_from] ? c.moved_from : c.address
  const entry = input.state?.resources[stateAddress]
  if (c.action !== 'create') {
    const live = input.live.get(stateAddress)
    const imported = c.action === 'import' ? input.imports?.get(c.address) : undefined
    if (imported?.status === 'found') {
      const face = cardFace(c.kind, imported.object)
      if (face) Object.assign(sides, {before: face, beforeSource: 'import'})
    } else if (live?.status === 'found') {
      const face = cardFace(c.kind, {...live.object, ...(entry?.write_only ?? {})})
      if (face) Object.assign(sides, {before: face, beforeSource: 'live'})
    } else if (entry && live === undefined && entry.status === 'created') {
      const face = cardFace(c.kind, {...entry.applied, ...entry.write_only})
      if (face) Object.assign(sides, {before: face, beforeSource: 'state'})
    }
  }
  const keeps = c.action === 'create' || c.action === 'update' || c.action === 'replace' || c.action === 'import' || c.action === 'no-op'
  if (keeps && desired) {
    const face = cardFace(c.kind, desired.spec, desired.images)
    if (face) sides.after = face
  }
  return sides
}

/** Write the page beside its final name, then rename: a reader never sees half a page. */
export async function writePlanHtml(file: string, html: string): Promise<void> {
  const {rename, rm, writeFile} = await import('node:fs/promises')
  const tmp = `${file}.${process.pid}.tmp`
  try {
    await writeFile(tmp, html)
    await rename(tmp, file)
  } catch (e) {
    await rm(tmp, {force: true})
    throw e
  }
}
