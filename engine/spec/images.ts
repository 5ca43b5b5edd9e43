import {readFileSync, statSync} from 'node:fs'
import path from 'node:path'
import {imageSize} from 'image-size'
import {getPath} from '../diff/values.js'
import type {Diagnostic} from '../model/diagnostic.js'
import {isImageFileRef, sha256Hex, type ImageFile, type ImageFormat} from '../model/image.js'
import {defaultKindSemantics, type ImageRules, type KindSemantics} from '../model/schema-semantics.js'
import type {SpecDocument} from './load-project.js'

/**
 * Image fields that name a local file (`logo_url: {file: assets/logo.png}`): each file is read once, described
 * (sha256, bytes, format and pixels from its header, by image-size) and checked against the field's documented limits
 * (x-cardform-image in the kind schema). Problems are diagnostics at the `file:` value's position.
 */

/** The upload API's own limit (reference §1c: "≤2M"; read as 2 MiB). Fields may allow less. */
export const UPLOAD_MAX_BYTES = 2 * 1024 * 1024

const FORMAT_NAMES: Record<ImageFormat, string> = {jpg: 'JPG', png: 'PNG', bmp: 'BMP'}

/** image-size's type names for the formats the upload API takes. */
const FORMATS: Record<string, ImageFormat> = {jpg: 'jpg', png: 'png', bmp: 'bmp'}

export type Described = {ok: true; image: Omit<ImageFile, 'file'>} | {ok: false; problem: 'missing' | 'unreadable' | 'too-large' | 'not-an-image'; detail: string; bytes?: number; type?: string}

/** Image files already read, by absolute path; shared by the calls for one project so each file is read once. */
export type ImageCache = Map<string, Described>

/**
 * Read every file-backed image field of `documents`, set `document.images`, and return the diagnostics. A document
 * with an error in an image is returned in `rejected` (it cannot be planned: its image cannot be uploaded).
 */
export function resolveImages(
  documents: readonly SpecDocument[],
  projectDir: string,
  cache: ImageCache = new Map(),
): {diagnostics: Diagnostic[]; rejected: Set<SpecDocument>} {
  const semantics = defaultKindSemantics() as Record<string, KindSemantics | undefined>
  const diagnostics: Diagnostic[] = []
  const rejected = new Set<SpecDocument>()
  for (const document of documents) {
    const fields = imageFields(semantics[document.kind])
    if (fields.length === 0) continue
    for (const [fieldPath, rules] of fields) {
      const segments = fieldPath.split('.')
      const ref = getPath(document.spec, segments)
      if (!isImageFileRef(ref)) continue
      const absolute = path.resolve(projectDir, path.dirname(document.file), ref.file)
      const file = path.relative(path.resolve(projectDir), absolute).split(path.sep).join('/')
      let described = cache.get(absolute)
      if (!described) cache.set(absolute, (described = describe(absolute)))
      const problems = check(described, rules, fieldPath, ref.file)
      if (problems.length > 0) {
        // Positions are worked out only for a file with a problem: they need the document's source map.
        const where = {source: document.positionOf(['spec', ...segments, 'file']), path: `spec.${fieldPath}.file`, address: document.address}
        for (const p of problems) diagnostics.push({...p, ...where})
      }
      if (problems.some((p) => p.severity === 'error')) rejected.add(document)
      else if (described.ok) (document.images ??= {})[fieldPath] = {file, ...described.image}
    }
  }
  return {diagnostics, rejected}
}

/** The image fields of a kind, by dotted spec path (fields inside arrays are not supported). */
function imageFields(kind: KindSemantics | undefined): Array<[string, ImageRules]> {
  if (!kind) return []
  const out: Array<[string, ImageRules]> = []
  for (const [p, f] of kind.fields) if (f.image && !p.includes('[')) out.push([p, f.image])
  return out
}


function describe(absolute: string): Described {
  let size: number
  try {
    const st = statSync(absolute)
    if (!st.isFile()) return {ok: false, problem: 'missing', detail: 'is not a file'}
    size = st.size
  } catch {
    return {ok: false, problem: 'missing', detail: 'does not exist'}
  }
  // A file over the upload limit is never read whole: its size is the error.
  if (size > UPLOAD_MAX_BYTES) return {ok: false, problem: 'too-large', detail: '', bytes: size}
  let bytes: Buffer
  try {
    bytes = readFileSync(absolute)
  } catch (e) {
    return {ok: false, problem: 'unreadable', detail: (e as NodeJS.ErrnoException).code ?? (e as Error).message}
  }
  let header: {width: number; height: number; type?: string}
  try {
    header = imageSize(bytes)
  } catch {
    return {ok: false, problem: 'not-an-image', detail: 'is not an image cardform can read (JPG, PNG or BMP)', bytes: bytes.length}
  }
  const format = header.type ? FORMATS[header.type] : undefined
  if (!format) return {ok: false, problem: 'not-an-image', detail: `is a ${(header.type ?? 'unknown').toUpperCase()} image`, bytes: bytes.length, ...(header.type ? {type: header.type} : {})}
  const sha256 = sha256Hex(bytes)
  return {ok: true, image: {sha256, bytes: bytes.length, format, width: header.width, height: header.height}}
}

function check(d: Described, rules: ImageRules, field: string, named: string): Array<Pick<Diagnostic, 'severity' | 'code' | 'message'>> {
  const takes = `${field} takes ${list(rules.formats.map((f) => FORMAT_NAMES[f]))}`
  const limit = Math.min(rules.max_bytes, UPLOAD_MAX_BYTES)
  if (!d.ok) {
    switch (d.problem) {
      case 'missing':
        return [{severity: 'error', code: 'image-file-missing', message: `${named} ${d.detail} (the path is relative to the spec file)`}]
      case 'unreadable':
        return [{severity: 'error', code: 'image-file-missing', message: `${named} cannot be read (${d.detail})`}]
      case 'too-large':
        return [{severity: 'error', code: 'image-too-large', message: `${named} is ${bytesText(d.bytes!)}; ${field} takes at most ${bytesText(limit)}`}]
      case 'not-an-image':
        return [{severity: 'error', code: 'image-format', message: `${named} ${d.detail}; ${takes}`}]
    }
  }
  const {image} = d
  const out: Array<Pick<Diagnostic, 'severity' | 'code' | 'message'>> = []
  if (!rules.formats.includes(image.format)) {
    out.push({severity: 'error', code: 'image-format', message: `${named} is a ${FORMAT_NAMES[image.format]} image; ${takes}`})
  }
  if (image.bytes > limit) {
    out.push({severity: 'error', code: 'image-too-large', message: `${named} is ${bytesText(image.bytes)}; ${field} takes at most ${bytesText(limit)}`})
  }
  if (rules.width !== undefined && rules.height !== undefined && (image.width !== rules.width || image.height !== rules.height)) {
    const size = `${image.width}×${image.height} px`
    const wanted = `${rules.width}×${rules.height} px`
    out.push(
      rules.pixels === 'recommended'
        ? {severity: 'warning', code: 'image-dimensions', message: `${named} is ${size}; ${wanted} is recommended for ${field}`}
        : {severity: 'error', code: 'image-dimensions', message: `${named} is ${size}; ${field} must be ${wanted}`},
    )
  }
  return out
}

function list(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} or ${items.at(-1)}`
}

/** `1,468,006 bytes (1.40 MiB)` */
export function bytesText(n: number): string {
  const mib = n / (1024 * 1024)
  return `${n.toLocaleString('en-US')} bytes${n >= 1024 * 1024 ? ` (${mib.toFixed(2)} MiB)` : ''}`
}
