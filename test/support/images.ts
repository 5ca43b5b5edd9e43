import {PNG} from 'pngjs'
import {isImageFileRef} from '../../engine/model/image.js'

/** A PNG of `width`×`height` filled with one colour (`#RRGGBB`), optionally with a square of another in the middle. */
export function png(width: number, height: number, colour: string, inner?: string): Buffer {
  const image = new PNG({width, height})
  const [r, g, b] = rgb(colour)
  const [ir, ig, ib] = inner ? rgb(inner) : [r, g, b]
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4
      const middle = inner && x > width / 4 && x < (3 * width) / 4 && y > height / 4 && y < (3 * height) / 4
      image.data[i] = middle ? ir : r
      image.data[i + 1] = middle ? ig : g
      image.data[i + 2] = middle ? ib : b
      image.data[i + 3] = 255
    }
  }
  return PNG.sync.write(image)
}

/** A PNG padded with an ancillary chunk to at least `bytes` bytes (still a valid image). */
export function pngOfSize(width: number, height: number, bytes: number): Buffer {
  const base = png(width, height, '#808080')
  const iend = base.subarray(base.length - 12)
  const pad = Math.max(0, bytes - base.length - 12)
  const chunk = Buffer.alloc(12 + pad)
  chunk.writeUInt32BE(pad, 0)
  chunk.write('zzZz', 4, 'latin1') // an ancillary, private chunk type: readers skip it (CRC unchecked by image-size)
  return Buffer.concat([base.subarray(0, base.length - 12), chunk, iend])
}

/** A minimal GIF header (1×1): a format the upload API does not take. */
export const GIF_1X1 = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64')

function rgb(colour: string): [number, number, number] {
  const n = Number.parseInt(colour.slice(1), 16)
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255]
}

/**
 * The URLs the quickstart's local images stand for in unit tests (as if uploaded there), so plans computed from the
 * example cards deal in URLs; test/unit/plan/images.test.ts and the image tests cover file references.
 */
export const EXAMPLE_IMAGE_URLS: Readonly<Record<string, string>> = {
  'assets/coffee-logo.png': 'https://wxpaylogo.qpic.cn/wxpaylogo/PiajxSqBRaEIPAeia7ImvtsqfqRBV8yFgM7ciaVz0ehkJL9JTHxG9rg/0',
  'assets/coffee-background.png': 'https://wxpaylogo.qpic.cn/wxpaylogo/PiajxSqBRaEIPAeia7Imvtsn7sYGNcEj33YzVvJF88ECQ19/0',
  'assets/fitness-card.png': 'https://wxpaylogo.qpic.cn/wxpaylogo/PiajxSqBRaEIPAeia7ImvtsuT5eXh2gQm8fKc0rNw7pL/0',
}

export function withExampleUrls(value: unknown): unknown {
  if (isImageFileRef(value)) {
    const url = EXAMPLE_IMAGE_URLS[value.file]
    if (!url) throw new Error(`no example URL for ${value.file}`)
    return url
  }
  if (Array.isArray(value)) return value.map(withExampleUrls)
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withExampleUrls(v)]))
  return value
}
