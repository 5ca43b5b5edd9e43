import {createHash} from 'node:crypto'
import {readFile} from 'node:fs/promises'
import path from 'node:path'
import type {MediaRecord} from '../../engine/model/image.js'
import {imageKey, type ImageSource} from './card-face.js'

/**
 * The pixels of the images a visual plan shows, as `data:` URIs so the page opens with no network; or why an image
 * could not be had, for a placeholder. The only I/O of the HTML plan.
 */
export type ResolvedImage = {status: 'embedded'; dataUri: string; mime: string; bytes: number} | {status: 'missing'; reason: string; host?: string}

/** Fetch one image URL. Injectable, so tests (and a future cache) need no network. */
export type FetchImage = (url: string) => Promise<FetchedImage>
export type FetchedImage = {ok: true; contentType: string; bytes: Uint8Array} | {ok: false; reason: string}

export const FETCH_TIMEOUT_MS = 2000
export const FETCH_MAX_BYTES = 2 * 1024 * 1024
/** Distinct URLs fetched at once. */
export const FETCH_CONCURRENCY = 6

export interface ResolveOptions {
  projectDir: string
  /** The state's media map: an uploaded URL whose file is still here, unchanged, is embedded from the file. */
  media?: Readonly<Record<string, MediaRecord>>
  fetchImage?: FetchImage
}

/**
 * Resolve every distinct source once, in this order: a local file; a URL the state uploaded from a file that is still
 * in the project with the same sha256; the URL fetched (http/https only). Never throws: a failure is a `missing`.
 */
export async function resolveImages(sources: readonly ImageSource[], options: ResolveOptions): Promise<Map<string, ResolvedImage>> {
  const distinct = new Map(sources.map((s) => [imageKey(s), s]))
  const byUrl = new Map<string, {sha256: string; record: MediaRecord}>()
  for (const [sha256, record] of Object.entries(options.media ?? {})) byUrl.set(record.media_url, {sha256, record})
  const fetchImage = options.fetchImage ?? fetchImageHttp
  const out = new Map<string, ResolvedImage>()
  const work = [...distinct].map(([key, source]) => async () => {
    out.set(key, await resolveOne(source, options.projectDir, byUrl, fetchImage))
  })
  await runLimited(work, FETCH_CONCURRENCY)
  return out
}

async function resolveOne(
  source: ImageSource,
  projectDir: string,
  byUrl: ReadonlyMap<string, {sha256: string; record: MediaRecord}>,
  fetchImage: FetchImage,
): Promise<ResolvedImage> {
  if ('file' in source) {
    const bytes = await readFile(path.join(projectDir, source.file.file)).catch(() => undefined)
    if (!bytes) return {status: 'missing', reason: `file ${source.file.file} not readable`}
    return embed(bytes, undefined) ?? {status: 'missing', reason: `file ${source.file.file} is not a PNG, JPEG, GIF, WebP or BMP image`}
  }
  const uploaded = byUrl.get(source.url)
  if (uploaded) {
    const bytes = await readFile(path.join(projectDir, uploaded.record.file)).catch(() => undefined)
    if (bytes && createHash('sha256').update(bytes).digest('hex') === uploaded.sha256) {
      const image = embed(bytes, undefined)
      if (image) return image
    }
  }
  const host = hostOf(source.url)
  if (!host) return {status: 'missing', reason: 'not an http(s) URL'}
  const fetched = await fetchImage(source.url).catch((e: unknown) => ({ok: false as const, reason: e instanceof Error ? e.message : String(e)}))
  if (!fetched.ok) return {status: 'missing', reason: fetched.reason, host}
  return embed(fetched.bytes, fetched.contentType) ?? {status: 'missing', reason: `not an image (${fetched.contentType || 'no content type'})`, host}
}

/** A data URI for bytes that are a raster image (by their magic number; never SVG, which can carry script). */
function embed(bytes: Uint8Array, contentType: string | undefined): ResolvedImage | undefined {
  const mime = sniffImage(bytes)
  if (!mime) return undefined
  if (contentType !== undefined && !/^image\//i.test(contentType)) return undefined
  return {status: 'embedded', mime, bytes: bytes.length, dataUri: `data:${mime};base64,${Buffer.from(bytes).toString('base64')}`}
}

export function sniffImage(b: Uint8Array): string | undefined {
  const starts = (...sig: number[]) => sig.every((v, i) => b[i] === v)
  if (starts(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return 'image/png'
  if (starts(0xff, 0xd8, 0xff)) return 'image/jpeg'
  if (starts(0x47, 0x49, 0x46, 0x38)) return 'image/gif'
  if (starts(0x42, 0x4d)) return 'image/bmp'
  if (starts(0x52, 0x49, 0x46, 0x46) && b[8] === 0x57 && b[9] === 0x45 && b[10] === 0x42 && b[11] === 0x50) return 'image/webp'
  return undefined
}

/** The host of an http(s) URL; undefined for any other scheme or a malformed URL. */
export function hostOf(url: string): string | undefined {
  try {
    const u = new URL(url)
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.host : undefined
  } catch {
    return undefined
  }
}

/**
 * GET an image with Node's fetch (undici): http/https only, FETCH_TIMEOUT_MS for the whole exchange, at most
 * FETCH_MAX_BYTES (the body is read in chunks and abandoned past the limit), image content types only.
 */
export async function fetchImageHttp(url: string, limits: {timeoutMs?: number; maxBytes?: number} = {}): Promise<FetchedImage> {
  const timeoutMs = limits.timeoutMs ?? FETCH_TIMEOUT_MS
  const maxBytes = limits.maxBytes ?? FETCH_MAX_BYTES
  if (!hostOf(url)) return {ok: false, reason: 'not an http(s) URL'}
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(), timeoutMs)
  let tooLarge = false
  try {
    const res = await fetch(url, {signal: controller.signal, redirect: 'follow', headers: {accept: 'image/*'}})
    const contentType = res.headers.get('content-type') ?? ''
    if (!res.ok) {
      await res.body?.cancel()
      return {ok: false, reason: `HTTP ${res.status}`}
    }
    if (!/^image\//i.test(contentType)) {
      await res.body?.cancel()
      return {ok: false, reason: `not an image (${contentType || 'no content type'})`}
    }
    const declared = Number(res.headers.get('content-length'))
    if (declared > maxBytes) {
      await res.body?.cancel()
      return {ok: false, reason: `larger than ${maxBytes / 1024 / 1024} MiB`}
    }
    const chunks: Uint8Array[] = []
    let total = 0
    const reader = res.body?.getReader()
    for (let r = await reader?.read(); r && !r.done; r = await reader!.read()) {
      total += r.value.length
      if (total > maxBytes) {
        tooLarge = true
        await reader!.cancel()
        return {ok: false, reason: `larger than ${maxBytes / 1024 / 1024} MiB`}
      }
      chunks.push(r.value)
    }
    return {ok: true, contentType, bytes: Buffer.concat(chunks)}
  } catch (e) {
    if (tooLarge) return {ok: false, reason: `larger than ${maxBytes / 1024 / 1024} MiB`}
    if (controller.signal.aborted) return {ok: false, reason: `no answer within ${timeoutMs / 1000} s`}
    const cause = (e as {cause?: {code?: string; message?: string}}).cause
    return {ok: false, reason: cause?.code ?? cause?.message ?? (e instanceof Error ? e.message : String(e))}
  } finally {
    clearTimeout(timer)
  }
}

async function runLimited(tasks: ReadonlyArray<() => Promise<void>>, limit: number): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < tasks.length) await tasks[next++]!()
  }
  await Promise.all(Array.from({length: Math.min(limit, tasks.length)}, worker))
}
