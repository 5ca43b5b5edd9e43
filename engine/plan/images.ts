import {getPath} from '../diff/values.js'
import {isImageFileRef, isUploadMarker, UPLOAD_KEY, type ImageFile, type MediaRecord, type UploadMarker} from '../model/image.js'
import type {ResourceChange, Step} from '../model/plan.js'
import type {DesiredCard} from './compute-plan.js'
import {setPath} from './state-record.js'

/**
 * Image fields taken from local files, in the plan. The spec's `{file: …}` becomes the media URL state recorded for
 * the file's sha256 (so an unchanged image is compared, like any URL, with the live card and with what was applied
 * last time: drift included), or an upload marker when the image was never uploaded. A marker in a request body or a
 * field change means "the URL this image gets"; the change then starts with an upload step.
 */

/**
 * `desired` with every file-backed image field replaced by its recorded media URL or an upload marker. Cards without
 * images are returned as they are; a field already resolved (a URL or a marker) is left alone.
 */
export function resolveImageFields(desired: readonly DesiredCard[], media: Readonly<Record<string, MediaRecord>> | undefined): DesiredCard[] {
  return desired.map((d) => {
    if (!d.images) return d
    let spec: Record<string, unknown> | undefined
    for (const [fieldPath, image] of Object.entries(d.images)) {
      const parts = fieldPath.split('.')
      if (!isImageFileRef(getPath(d.spec, parts))) continue
      spec ??= structuredClone(d.spec)
      const url = media?.[image.sha256]?.media_url
      setPath(spec, parts, url ?? uploadMarker(image.sha256))
    }
    return spec ? {...d, spec} : d
  })
}

export function uploadMarker(sha256: string): UploadMarker {
  return {[UPLOAD_KEY]: sha256} as UploadMarker
}

/**
 * Mark a change's field changes whose new value is an upload (`upload` instead of `after`) and put one upload step
 * before the first step whose body needs it. Returns the images the change uploads.
 */
export function attachUploads(change: ResourceChange, images: Readonly<Record<string, ImageFile>> | undefined): ImageFile[] {
  if (!images) return []
  const bySha = new Map(Object.values(images).map((i) => [i.sha256, i]))
  for (const fc of change.field_changes) {
    if (!isUploadMarker(fc.after)) continue
    const image = bySha.get(fc.after.$upload)
    if (!image) continue
    delete fc.after
    fc.upload = image
  }
  const needed: ImageFile[] = []
  const seen = new Set<string>()
  for (const step of change.steps) {
    if (!('body' in step)) continue
    for (const sha of markersIn(step.body)) {
      const image = bySha.get(sha)
      if (image && !seen.has(sha)) {
        seen.add(sha)
        needed.push(image)
      }
    }
  }
  if (needed.length > 0) change.steps = [...needed.map((image): Step => ({op: 'upload', image})), ...change.steps]
  return needed
}

/** The sha256 of every upload marker inside `value`. */
export function markersIn(value: unknown, out: string[] = []): string[] {
  if (isUploadMarker(value)) out.push(value.$upload)
  else if (Array.isArray(value)) for (const v of value) markersIn(v, out)
  else if (typeof value === 'object' && value !== null) for (const v of Object.values(value)) markersIn(v, out)
  return out
}

/** `value` with every upload marker replaced by its URL; throws when a marker has none (its upload did not happen). */
export function withMediaUrls<T>(value: T, urls: (sha256: string) => string | undefined): T {
  if (isUploadMarker(value)) {
    const url = urls(value.$upload)
    if (url === undefined) throw new Error(`no media URL for image sha256 ${value.$upload}: its upload did not complete`)
    return url as T
  }
  if (Array.isArray(value)) return value.map((v: unknown) => withMediaUrls(v, urls)) as T
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withMediaUrls(v, urls)])) as T
  }
  return value
}

