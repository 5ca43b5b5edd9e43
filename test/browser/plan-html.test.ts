import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {PNG} from 'pngjs'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {buildPlanHtml} from '../../cli/report/visual-plan.js'
import {changesSomething} from '../../engine/plan/compute-plan.js'
import {createProject} from '../integration/engine/project.js'
import {adoptAndLifecycle, everyAction} from '../unit/render/golden-plans.js'
import {findChromium, findColor, hexRgb, NO_CHROMIUM, screenshot, type Box} from './chromium.js'

/**
 * The HTML plan as a reviewer sees it: rendered by headless Chromium, screenshotted, and checked by its pixels. Skipped
 * (saying why) only where no Chromium is installed.
 */
const chromium = findChromium()
if (!chromium) console.warn(`test/browser/plan-html.test.ts: ${NO_CHROMIUM}`)

const BEFORE = '#E53935'
const AFTER = '#43A047'
const PICTURE: [number, number, number] = [255, 0, 255]

let server: Server
let base: string
const dir = mkdtempSync(path.join(tmpdir(), 'cardform-browser-'))

beforeAll(async () => {
  // The card picture, served over loopback as a live card's URL would be: a magenta 716×320 PNG.
  const picture = new PNG({width: 716, height: 320})
  for (let i = 0; i < 716 * 320; i++) picture.data.set([...PICTURE, 255], i * 4)
  const bytes = PNG.sync.write(picture)
  server = createServer((_req, res) => res.writeHead(200, {'content-type': 'image/png', 'content-length': bytes.length}).end(bytes))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(() => {
  server?.closeAllConnections()
  server?.close()
  rmSync(dir, {recursive: true, force: true})
})

const brandCard = (color: string) => `apiVersion: cardform/v1
kind: BrandMemberCard
metadata:
  name: colour-change
spec:
  brand_id: "1004582931"
  appid: wx5c2e8a0f3d7b9146
  card_type: NORMAL
  card_title: 颜色会员卡
  card_color: "${color}"
  card_picture_url: ${base}/picture.png
  code_mode: SYSTEM_ALLOCATE
  code_type: QR_CODE
  benefits: 团课九折
  notify_url: https://api.dongli-fitness.example.cn/wxpay/card-notify
  need_display_level: true
  init_level: 普通会员
  valid_date_information:
    type: PERMANENT
  member_information:
    jump_appid: wx5c2e8a0f3d7b9146
    jump_path: /pages/member/index
  points_information:
    jump_appid: wx5c2e8a0f3d7b9146
    jump_path: /pages/member/points
`

const overlapsVertically = (a: Box, b: Box) => a.minY < b.maxY && b.minY < a.maxY
const inside = (inner: Box, outer: Box) => inner.minX >= outer.minX && inner.maxX <= outer.maxX && inner.minY >= outer.minY && inner.maxY <= outer.maxY

describe('plan --html in headless Chromium', () => {
  it('draws the card before and after side by side: the old colour left, the new colour right, the picture inside each face', async (ctx) => {
    if (!chromium) return ctx.skip(NO_CHROMIUM)
    const p = await createProject({cards: {'colour.yaml': brandCard(BEFORE)}})
    try {
      const applied = await p.cli(['apply', '--auto-approve'])
      expect(applied.code, applied.stdout + applied.stderr).toBe(0)
      p.edit('cards/colour.yaml', `card_color: "${BEFORE}"`, `card_color: "${AFTER}"`)
      const file = path.join(dir, 'colour.html')
      const r = await p.cli(['plan', '--html', file])
      expect(r.code, r.stderr).toBe(0)
      expect(r.stderr).toContain(`Wrote the visual plan to ${file}`)
      expect(r.stdout).toContain('~ card_color: "#E53935" → "#43A047"')

      const png = await screenshot(chromium, file, 1100, 1300)
      const before = findColor(png, hexRgb(BEFORE))
      const after = findColor(png, hexRgb(AFTER))
      for (const face of [before, after]) {
        // Face-sized: a card drawn ~470 px wide in a 1100 px window.
        expect(face.count).toBeGreaterThan(20_000)
        expect(face.maxX - face.minX).toBeGreaterThan(300)
        expect(face.maxY - face.minY).toBeGreaterThan(150)
      }
      expect(before.maxX).toBeLessThan(after.minX)
      expect(overlapsVertically(before, after)).toBe(true)
      // The card picture (fetched from the loopback URL and embedded) sits inside each face.
      for (const face of [before, after]) {
        const picture = findColor(png, PICTURE, 6, face)
        expect(picture.count).toBeGreaterThan(5_000)
        expect(inside(picture, face)).toBe(true)
      }
    } finally {
      await p.close()
    }
  })

  it('renders the page of a plan with every action kind, one section per changed card', async (ctx) => {
    if (!chromium) return ctx.skip(NO_CHROMIUM)
    for (const [name, g] of [['all-actions', everyAction()], ['adopt-and-lifecycle', adoptAndLifecycle()]] as const) {
      g.plan.diagnostics.push({severity: 'error', code: 'example-error', message: 'an error, listed on the page'})
      const html = await buildPlanHtml({...g, projectDir: dir, fetchImage: async () => ({ok: false, reason: 'offline'})})
      const file = path.join(dir, `${name}.html`)
      writeFileSync(file, html)
      const changed = g.plan.changes.filter(changesSomething)
      expect(readFileSync(file, 'utf8').match(/<section class="change /g)).toHaveLength(changed.length)

      const png = await screenshot(chromium, file, 1100, 1600)
      let ink = 0
      for (let i = 0; i < png.data.length; i += 4) if (png.data[i]! < 200 || png.data[i + 1]! < 200 || png.data[i + 2]! < 200) ink++
      expect(ink / (png.width * png.height), `${name}: the page is blank`).toBeGreaterThan(0.03)
      // The error callout (its pink background) is drawn near the top.
      const callout = findColor(png, hexRgb('#FFEBE9'), 2)
      expect(callout.count, name).toBeGreaterThan(5_000)
      expect(callout.minY, name).toBeLessThan(700)
    }
  })
})
