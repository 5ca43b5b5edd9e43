import {createHash} from 'node:crypto'
import {describe, expect, it} from 'vitest'
import {buildImageUpload, imageContentType} from '../../../engine/providers/wechatpay/media.js'

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3])
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

/** Parse the body back with the platform's own multipart parser (the emulator's way). */
async function parse(body: {bytes: Uint8Array; contentType: string}) {
  return new Request('http://upload.test/', {method: 'POST', headers: {'content-type': body.contentType}, body: body.bytes}).formData()
}

describe('buildImageUpload', () => {
  it('builds multipart meta + file parts and signs the meta JSON, not the multipart bytes', async () => {
    const body = await buildImageUpload({filename: 'logo.png', bytes: PNG})
    expect(body.contentType).toMatch(/^multipart\/form-data; boundary=/)
    expect(body.signed).toBe(JSON.stringify({filename: 'logo.png', sha256: sha(PNG)}))
    const form = await parse(body)
    expect(form.get('meta')).toBe(body.signed)
    const file = form.get('file') as File
    expect(file.name).toBe('logo.png')
    expect(file.type).toBe('image/png')
    expect(Buffer.from(await file.arrayBuffer())).toEqual(PNG)
  })

  it('sends the last path segment as the file name', async () => {
    const body = await buildImageUpload({filename: 'assets/img/logo.png', bytes: PNG})
    expect(body.meta.filename).toBe('logo.png')
  })

  it('refuses a sha256 that is not the bytes’ own', async () => {
    await expect(buildImageUpload({filename: 'a.png', bytes: PNG, sha256: '0'.repeat(64)})).rejects.toThrow(/is not the sha256 of its bytes/)
    await expect(buildImageUpload({filename: 'a.png', bytes: PNG, sha256: sha(PNG).toUpperCase()})).resolves.toBeDefined()
  })
})

describe('imageContentType', () => {
  it('labels the bytes by their magic number before the extension', () => {
    expect(imageContentType(PNG, 'logo.jpg')).toBe('image/png')
    expect(imageContentType(Buffer.from([0xff, 0xd8, 0xff, 0xe0]), 'x')).toBe('image/jpeg')
    expect(imageContentType(Buffer.from('BM....'), 'x')).toBe('image/bmp')
    expect(imageContentType(Buffer.from('GIF89a'), 'x.bmp')).toBe('image/bmp')
    expect(imageContentType(Buffer.from('GIF89a'), 'x.gif')).toBe('application/octet-stream')
  })
})
