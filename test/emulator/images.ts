import {deflateSync, crc32} from 'node:zlib'
import {createHash} from 'node:crypto'

/**
 * Small images written byte by byte for the upload tests. The PNG and the BMP are complete, decodable images; the
 * JPEG is a JFIF header and an end marker only, enough for a check of the magic bytes, which is all the emulator does.
 * `seed` changes a pixel (or a byte), so tests can make distinct images.
 */

export function pngImage(seed = 0, width = 1, height = 1): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data])
    const out = Buffer.alloc(12 + data.length)
    out.writeUInt32BE(data.length, 0)
    body.copy(out, 4)
    out.writeUInt32BE(crc32(body) >>> 0, 8 + data.length)
    return out
  }
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(width, 0)
  ihdr.writeUInt32BE(height, 4)
  ihdr[8] = 8 // bit depth
  ihdr[9] = 2 // truecolour RGB
  // One filter byte (0) per row, then RGB pixels.
  const row = Buffer.alloc(1 + 3 * width)
  row[1] = seed & 0xff
  row[2] = (seed >> 8) & 0xff
  row[3] = (seed >> 16) & 0xff
  const raw = Buffer.concat(Array.from({length: height}, () => row))
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ])
}

/** SOI, an APP0 JFIF segment, EOI. */
export function jpegImage(seed = 0): Buffer {
  const app0 = Buffer.from([0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, seed & 0xff])
  return Buffer.concat([Buffer.from([0xff, 0xd8]), app0, Buffer.from([0xff, 0xd9])])
}

/** A 1×1 24-bit BMP. */
export function bmpImage(seed = 0): Buffer {
  const out = Buffer.alloc(58)
  out.write('BM', 0, 'ascii')
  out.writeUInt32LE(58, 2) // file size
  out.writeUInt32LE(54, 10) // pixel data offset
  out.writeUInt32LE(40, 14) // BITMAPINFOHEADER
  out.writeInt32LE(1, 18) // width
  out.writeInt32LE(1, 22) // height
  out.writeUInt16LE(1, 26) // planes
  out.writeUInt16LE(24, 28) // bits per pixel
  out.writeUInt32LE(4, 34) // image size (one row padded to 4 bytes)
  out[54] = seed & 0xff
  return out
}

/** A PNG signature followed by padding: `size` bytes that pass the magic-byte check. */
export function pngOfSize(size: number): Buffer {
  const out = Buffer.alloc(size, 0x20)
  pngImage().copy(out, 0, 0, 8)
  return out
}

export const GIF = Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;', 'latin1')

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}
