import {createHash} from 'node:crypto'
import {ApiError, paramError} from './errors.js'
import type {ApiReply, ApiRequest, HandlerEnv} from './handler.js'
import type {MediaFormat, MediaRecord} from './store.js'

/**
 * The marketing image upload, POST /v3/marketing/favor/media/image-upload (ref §1c; openapi
 * `v3/marketing/favor/media/image-upload.yaml`): multipart parts `meta` (`{"filename","sha256"}` as JSON text) and
 * `file` (JPG/BMP/PNG, ≤2M); answer `{"media_url"}`. The emulator serves what it stored at that URL (GET /media/…).
 */

export const MEDIA_UPLOAD_PATH = '/v3/marketing/favor/media/image-upload'

/** ref §1c "≤2M", read as 2 MiB. */
export const MAX_IMAGE_BYTES = 2 * 1024 * 1024

/** ref §1c: "limited to 100 requests per minute" (F). Counted per merchant over a sliding minute [inferred]. */
export const UPLOADS_PER_MINUTE = 100

/** Where the stored images are served, under the emulator's URL: `/media/<sha256>.<ext>`. */
export const MEDIA_PREFIX = '/media/'

/** The parts of an upload request, as the server read them before verifying the signature over `meta`. */
export interface UploadForm {
  /** The meta part's text, exactly as sent: the body line of the signature. */
  meta: string
  file?: {filename: string; bytes: Buffer}
}

/** Magic numbers of the accepted formats: the bytes decide, never the name [invented: the API's check is unknown]. */
const SIGNATURES: readonly {format: MediaFormat; magic: readonly number[]}[] = [
  {format: 'png', magic: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]},
  {format: 'jpg', magic: [0xff, 0xd8, 0xff]},
  {format: 'bmp', magic: [0x42, 0x4d]},
]

export const CONTENT_TYPES: Readonly<Record<MediaFormat, string>> = {png: 'image/png', jpg: 'image/jpeg', bmp: 'image/bmp'}

const EXTENSIONS = new Set(['jpg', 'jpeg', 'png', 'bmp'])

export function sniffFormat(bytes: Uint8Array): MediaFormat | undefined {
  return SIGNATURES.find((s) => s.magic.every((b, i) => bytes[i] === b))?.format
}

/** `<sha256>.<ext>`, the stored file's name and the last segment of its URL. */
export function mediaFileName(r: Pick<MediaRecord, 'sha256' | 'format'>): string {
  return `${r.sha256}.${r.format}`
}

/**
 * With the emulator on 127.0.0.1 the URL is ~97 characters; logo_url and background_picture_url are string(128)
 * (ref §5), so a longer one (a long --host) could not be used in a card: refused rather than handed out.
 */
export const MAX_MEDIA_URL_LENGTH = 128

/**
 * Read the multipart body with the platform's parser (undici's `Request.formData()`; the body is already read and
 * capped by the server, so buffering it whole is fine). Checked before the signature, because the signature covers
 * the meta part: no meta, nothing to verify.
 *
 * - not multipart/form-data: 400 INVALID_REQUEST naming Content-Type, as for a JSON route's wrong Content-Type;
 * - a body the parser refuses, or no `meta` part: 400 PARAM_ERROR [invented messages].
 */
export async function readUploadForm(contentType: string | undefined, raw: Buffer): Promise<UploadForm> {
  const type = contentType ?? ''
  if (!type.toLowerCase().startsWith('multipart/form-data')) {
    throw new ApiError(400, 'INVALID_REQUEST', `Http头Content-Type值应为multipart/form-data,实际为“${type}”`, {
      field: 'Content-Type',
      location: 'header',
    })
  }
  let form: FormData
  try {
    form = await new Request('http://emulator/', {method: 'POST', headers: {'content-type': type}, body: raw}).formData()
  } catch (error) {
    throw paramError(`请求报文主体不是合法的multipart/form-data: ${(error as Error).message}`, '/', 'body')
  }
  const meta = form.get('meta')
  if (meta === null) throw paramError('缺少媒体文件元信息meta', 'meta')
  // Some SDKs send meta as a part with its own Content-Type: application/json (a "file" to the parser): its text counts.
  const metaText = typeof meta === 'string' ? meta : await meta.text()
  const file = form.get('file')
  if (file === null || typeof file === 'string') return {meta: metaText}
  return {meta: metaText, file: {filename: file.name, bytes: Buffer.from(await file.arrayBuffer())}}
}

/**
 * Check an upload and store its image; answer `{media_url}`. One error per answer, the first found, all 400
 * PARAM_ERROR with `detail.field` (the emulator's field-error shape; ref §3 gives PARAM_ERROR for parameter problems,
 * the messages are [invented]):
 * meta not a JSON object → filename missing → sha256 missing or not 64 hex → file part missing → file over 2 MiB →
 * sha256 not the file's → bytes not JPG/PNG/BMP → filename extension not jpg/jpeg/png/bmp.
 *
 * The same bytes always get the same URL, whoever uploads them under whatever name [inferred from "permanent" URLs].
 */
export function uploadImage(req: ApiRequest, env: HandlerEnv): ApiReply {
  const form = req.form
  if (form === undefined) throw new Error('the upload route was called without its multipart form')
  let meta: unknown
  try {
    meta = JSON.parse(form.meta)
  } catch (error) {
    throw paramError(`媒体文件元信息meta不是合法的JSON: ${(error as Error).message}`, 'meta')
  }
  if (meta === null || typeof meta !== 'object' || Array.isArray(meta)) throw paramError('媒体文件元信息meta应为JSON对象', 'meta')
  const {filename, sha256} = meta as Record<string, unknown>
  if (typeof filename !== 'string' || filename.trim() === '') throw paramError('meta.filename必填,应为文件名称', 'filename')
  if (typeof sha256 !== 'string' || !/^[0-9a-fA-F]{64}$/.test(sha256)) {
    throw paramError('meta.sha256必填,应为文件内容的SHA256摘要(64位十六进制)', 'sha256')
  }
  if (form.file === undefined) throw paramError('缺少图片文件file', 'file')
  const bytes = form.file.bytes
  if (bytes.length > MAX_IMAGE_BYTES) {
    throw paramError(`图片大小${bytes.length}字节,超过2M(${MAX_IMAGE_BYTES}字节)的限制`, 'file')
  }
  const actual = createHash('sha256').update(bytes).digest('hex')
  // Either case is accepted [invented: the docs do not say].
  if (sha256.toLowerCase() !== actual) throw paramError(`meta.sha256与文件内容的摘要不一致(文件摘要为${actual})`, 'sha256')
  const format = sniffFormat(bytes)
  if (format === undefined) throw paramError('图片格式不支持,仅支持JPG、BMP、PNG', 'file')
  const ext = /\.([^./\\]+)$/.exec(filename)?.[1]?.toLowerCase()
  if (ext === undefined || !EXTENSIONS.has(ext)) throw paramError(`文件名“${filename}”的扩展名应为jpg、jpeg、png或bmp`, 'filename')

  // The same bytes have the same format, so the URL does not depend on which upload stored them first.
  const mediaUrl = `${env.baseUrl}${MEDIA_PREFIX}${mediaFileName({sha256: actual, format})}`
  if (mediaUrl.length > MAX_MEDIA_URL_LENGTH) {
    throw new ApiError(500, 'SYSTEM_ERROR', `模拟器地址过长: 媒体URL有${mediaUrl.length}个字符,超过${MAX_MEDIA_URL_LENGTH}`)
  }
  if (env.store.getMedia(actual) === undefined) env.store.putMedia({sha256: actual, format, bytes})
  return {status: 200, body: {media_url: mediaUrl}}
}

/** `<sha256>.<ext>` from a /media/ path, or undefined. */
export function parseMediaPath(pathname: string): {sha256: string; format: string} | undefined {
  const m = /^\/media\/([0-9a-f]{64})\.([a-z]+)$/.exec(pathname)
  return m ? {sha256: m[1]!, format: m[2]!} : undefined
}
