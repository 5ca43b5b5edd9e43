import {Blob} from 'node:buffer'
import path from 'node:path'
import {FormData, Response} from 'undici'
import type {RawRequestBody, WechatPayClient} from './client.js'
import {UnexpectedResponseError} from './errors.js'
import {sha256Hex} from '../../model/image.js'

/**
 * The marketing image upload (图片上传API, reference §1c; openapi `v3/marketing/favor/media/image-upload.yaml`): the
 * only way to get the URLs membercard-open's logo_url and background_picture_url accept.
 *
 * POST multipart/form-data with two parts, `meta` = `{"filename","sha256"}` as a JSON string and `file` = the image
 * (JPG, BMP or PNG, at most 2 MiB); answer 200 `{"media_url"}`. The request signature's body line is the meta JSON,
 * not the multipart body (reference §1c, §2).
 */

export const MEDIA_IMAGE_UPLOAD = '/v3/marketing/favor/media/image-upload'

/** "≤2M" (reference §1c), read as 2 MiB. */
export const MAX_IMAGE_BYTES = 2 * 1024 * 1024

export interface ImageToUpload {
  /** A file name; only its last path segment is sent (the API wants a name, not a path). */
  filename: string
  bytes: Uint8Array
  /** Hex sha256 of `bytes`, when the caller has it already; it is checked against the bytes. */
  sha256?: string
}

/** The formats the API accepts (reference §1c: JPG/BMP/PNG), told apart by their first bytes. */
const SIGNATURES: readonly {contentType: string; magic: readonly number[]}[] = [
  {contentType: 'image/png', magic: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]},
  {contentType: 'image/jpeg', magic: [0xff, 0xd8, 0xff]},
  {contentType: 'image/bmp', magic: [0x42, 0x4d]},
]

const BY_EXTENSION: Readonly<Record<string, string>> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.bmp': 'image/bmp',
}

/**
 * The file part's content type: from the image's magic bytes, else from the file name's extension, else
 * application/octet-stream. The API judges the bytes; this only labels them, and a format it refuses is its to say.
 */
export function imageContentType(bytes: Uint8Array, filename: string): string {
  const sniffed = SIGNATURES.find((s) => s.magic.every((b, i) => bytes[i] === b))
  return sniffed?.contentType ?? BY_EXTENSION[path.extname(filename).toLowerCase()] ?? 'application/octet-stream'
}

/**
 * The upload's request body, built once with undici's FormData (its Response encodes the parts and picks the
 * boundary), so that every attempt resends identical bytes. `signed` is the meta JSON, byte for byte the meta part.
 */
export async function buildImageUpload(image: ImageToUpload): Promise<RawRequestBody & {meta: {filename: string; sha256: string}}> {
  const filename = path.basename(image.filename.replaceAll('\\', '/'))
  if (filename === '' || filename === '.' || filename === '..') {
    throw new TypeError(`an image upload needs a file name, got ${JSON.stringify(image.filename)}`)
  }
  const sha256 = sha256Hex(image.bytes)
  if (image.sha256 !== undefined && image.sha256.toLowerCase() !== sha256) {
    throw new TypeError(`sha256 ${image.sha256} given for ${filename} is not the sha256 of its bytes (${sha256})`)
  }
  const meta = {filename, sha256}
  const metaJson = JSON.stringify(meta)
  const form = new FormData()
  form.append('meta', metaJson)
  form.append('file', new Blob([image.bytes], {type: imageContentType(image.bytes, filename)}), filename)
  // FormData and Response come from the same undici: a FormData of another realm would be sent as "[object FormData]".
  const encoded = new Response(form)
  const contentType = encoded.headers.get('content-type')
  if (contentType === null || !contentType.startsWith('multipart/form-data; boundary=')) {
    throw new Error(`encoding the image upload gave content type ${JSON.stringify(contentType)}, not multipart/form-data`)
  }
  return {bytes: new Uint8Array(await encoded.arrayBuffer()), contentType, signed: metaJson, meta}
}

export class MediaApi {
  constructor(private readonly client: WechatPayClient) {}

  /**
   * POST /v3/marketing/favor/media/image-upload → `{media_url}`. Paced by the client's `media` rate-limit family
   * (100 per minute, reference §1c).
   *
   * Retried like an idempotent call, connection losses included: uploading the same bytes again only yields a
   * permanent URL for them (a second URL for the same image at worst, never a changed card), so a repeat after a lost
   * answer is harmless.
   */
  async uploadImage(image: ImageToUpload): Promise<{media_url: string}> {
    const rawBody = await buildImageUpload(image)
    const res = await this.client.request({method: 'POST', path: MEDIA_IMAGE_UPLOAD, rawBody, idempotent: true})
    const d = res.data as Record<string, unknown> | undefined
    if (d === null || typeof d !== 'object' || Array.isArray(d) || typeof d.media_url !== 'string' || d.media_url === '') {
      throw new UnexpectedResponseError({
        reason: 'response is not an upload result (no media_url)',
        site: {method: 'POST', path: MEDIA_IMAGE_UPLOAD},
        status: res.status,
        requestId: res.requestId,
      })
    }
    return {media_url: d.media_url}
  }
}
