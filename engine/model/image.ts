/**
 * Images from local files (issue 9). A spec may name a file instead of an uploaded URL for an image field
 * (`logo_url: {file: assets/logo.png}`, relative to the spec file). The loader reads it, checks it against the
 * field's documented limits and describes it as an ImageFile. The plan substitutes the media URL recorded in state for
 * that sha256 (an image is never uploaded twice: the URL is permanent), or an UploadMarker when it was never
 * uploaded; apply uploads it before the create or PATCH that needs it and puts the URL in place of the marker.
 */

import {createHash} from 'node:crypto'

/** Hex sha256 of an image's bytes: how the loader, apply's check before an upload and the upload's meta name it. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

/** A local image as the loader read it. */
export interface ImageFile {
  /** Path relative to the project directory, `/` separators (the spec names it relative to its own file). */
  file: string
  /** Hex sha256 of the file's bytes: the key of the state's media map, and the upload's `meta.sha256`. */
  sha256: string
  bytes: number
  /** From the image header (image-size). */
  format: ImageFormat
  width: number
  height: number
}

export type ImageFormat = 'png' | 'jpg' | 'bmp'

/** What a spec writes for an image field it takes from a file. */
export interface ImageFileRef {
  file: string
}

export function isImageFileRef(v: unknown): v is ImageFileRef {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as {file?: unknown}).file === 'string' && Object.keys(v).length === 1
}

/**
 * Stands in a planned request body for the media URL of an image not uploaded yet; apply replaces it after the upload
 * step. A JSON object, so it can never be mistaken for a URL string.
 */
export interface UploadMarker {
  $upload: string
}

export const UPLOAD_KEY = '$upload'

export function isUploadMarker(v: unknown): v is UploadMarker {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as {$upload?: unknown}).$upload === 'string'
}

/** One uploaded image as state records it, keyed by sha256: the URL is permanent, so it is reused for ever. */
export interface MediaRecord {
  media_url: string
  /** The file it was uploaded from, project-relative (informational: the sha256 is the key). */
  file: string
  bytes: number
  uploaded_at: string
}
