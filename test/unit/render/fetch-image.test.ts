import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {PNG} from 'pngjs'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {fetchImageHttp, resolveImages} from '../../../cli/report/images.js'

/** A real HTTP server on loopback: each path answers the way an image host can go wrong. */
let server: Server
let base: string
const png = (() => {
  const p = new PNG({width: 2, height: 2})
  p.data.fill(200)
  return PNG.sync.write(p)
})()
let hits: Record<string, number> = {}

beforeAll(async () => {
  server = createServer((req, res) => {
    hits[req.url!] = (hits[req.url!] ?? 0) + 1
    switch (req.url) {
      case '/logo.png':
        res.writeHead(200, {'content-type': 'image/png', 'content-length': png.length}).end(png)
        return
      case '/page.html':
        res.writeHead(200, {'content-type': 'text/html'}).end('<html></html>')
        return
      case '/lying.png':
        // Says image/png, is not one.
        res.writeHead(200, {'content-type': 'image/png'}).end('<svg onload="alert(1)"></svg>')
        return
      case '/huge.png':
        // No content-length: the limit must hold while streaming.
        res.writeHead(200, {'content-type': 'image/png'})
        res.write(png)
        res.end(Buffer.alloc(3 * 1024 * 1024))
        return
      case '/slow.png':
        setTimeout(() => res.writeHead(200, {'content-type': 'image/png'}).end(png), 3000).unref()
        return
      case '/moved.png':
        res.writeHead(302, {location: '/logo.png'}).end()
        return
      default:
        res.writeHead(404).end()
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(() => {
  server.closeAllConnections()
  server.close()
})

describe('fetchImageHttp against a loopback server', () => {
  it('returns the bytes of an image, following a redirect', async () => {
    expect(await fetchImageHttp(`${base}/logo.png`)).toEqual({ok: true, contentType: 'image/png', bytes: png})
    expect(await fetchImageHttp(`${base}/moved.png`)).toMatchObject({ok: true, bytes: png})
  })

  it('says why it could not: status, content type, size, time, scheme', async () => {
    expect(await fetchImageHttp(`${base}/nope.png`)).toEqual({ok: false, reason: 'HTTP 404'})
    expect(await fetchImageHttp(`${base}/page.html`)).toEqual({ok: false, reason: 'not an image (text/html)'})
    expect(await fetchImageHttp(`${base}/huge.png`)).toEqual({ok: false, reason: 'larger than 2 MiB'})
    const started = Date.now()
    expect(await fetchImageHttp(`${base}/slow.png`, {timeoutMs: 300})).toEqual({ok: false, reason: 'no answer within 0.3 s'})
    expect(Date.now() - started).toBeLessThan(2000)
    expect(await fetchImageHttp('file:///etc/passwd')).toEqual({ok: false, reason: 'not an http(s) URL'})
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const port = (closed.address() as AddressInfo).port
    await new Promise((resolve) => closed.close(resolve))
    expect(await fetchImageHttp(`http://127.0.0.1:${port}/x.png`)).toEqual({ok: false, reason: 'ECONNREFUSED'})
  })
})

describe('resolveImages', () => {
  it('fetches each distinct URL once and embeds only real raster images', async () => {
    hits = {}
    const urls = ['logo.png', 'logo.png', 'lying.png', 'page.html', 'nope.png'].map((p) => ({url: `${base}/${p}`}))
    const images = await resolveImages([...urls, {url: 'ftp://example.cn/a.png'}], {projectDir: '/nonexistent'})
    expect(hits['/logo.png']).toBe(1)
    expect(images.get(`url:${base}/logo.png`)).toMatchObject({status: 'embedded', mime: 'image/png', dataUri: `data:image/png;base64,${png.toString('base64')}`})
    const host = new URL(base).host
    expect(images.get(`url:${base}/lying.png`)).toEqual({status: 'missing', reason: 'not an image (image/png)', host})
    expect(images.get(`url:${base}/page.html`)).toEqual({status: 'missing', reason: 'not an image (text/html)', host})
    expect(images.get(`url:${base}/nope.png`)).toEqual({status: 'missing', reason: 'HTTP 404', host})
    expect(images.get('url:ftp://example.cn/a.png')).toEqual({status: 'missing', reason: 'not an http(s) URL'})
  })
})
