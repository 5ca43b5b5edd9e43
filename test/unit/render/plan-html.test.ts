import {createHash} from 'node:crypto'
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {PNG} from 'pngjs'
import {afterAll, describe, expect, it} from 'vitest'
import {buildPlanHtml} from '../../../cli/report/visual-plan.js'
import {cardFace} from '../../../cli/report/card-face.js'
import type {FetchImage} from '../../../cli/report/images.js'
import type {ImageFile} from '../../../engine/model/image.js'
import {changesSomething} from '../../../engine/plan/compute-plan.js'
import {appliedState, card, exampleCards, liveOf, plan, withSpec} from '../plan/helpers.js'
import {adoptAndLifecycle, everyAction, type GoldenPlan} from './golden-plans.js'

const projectDir = mkdtempSync(path.join(tmpdir(), 'cardform-html-'))
afterAll(() => rmSync(projectDir, {recursive: true, force: true}))

/** A solid PNG of one colour. */
function solidPng(rgb: [number, number, number], w = 4, h = 4): Buffer {
  const png = new PNG({width: w, height: h})
  for (let i = 0; i < w * h; i++) png.data.set([...rgb, 255], i * 4)
  return PNG.sync.write(png)
}

/** Answers every URL as unreachable, and counts the calls. */
function unreachable(): FetchImage & {calls: string[]} {
  const calls: string[] = []
  const f = (async (url: string) => {
    calls.push(url)
    return {ok: false as const, reason: 'HTTP 404'}
  }) as FetchImage & {calls: string[]}
  f.calls = calls
  return f
}

const html = (g: GoldenPlan, fetchImage: FetchImage = unreachable()) => buildPlanHtml({...g, projectDir, fetchImage})

function imageFile(rel: string, bytes: Buffer): ImageFile {
  mkdirSync(path.dirname(path.join(projectDir, rel)), {recursive: true})
  writeFileSync(path.join(projectDir, rel), bytes)
  return {file: rel, sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length, format: 'png', width: 4, height: 4}
}

describe('renderPlanHtml', () => {
  it('labels every action kind in words and gives every changed card one section', async () => {
    for (const g of [everyAction(), adoptAndLifecycle()]) {
      const page = await html(g)
      const changed = g.plan.changes.filter(changesSomething)
      expect(page.match(/<section class="change /g)).toHaveLength(changed.length)
      for (const c of changed) {
        const label = c.moved_from && c.action === 'no-op' ? 'moved' : c.action
        expect(page).toContain(`class="tag action-${label}"`)
        expect(page).toContain(`id="card-${c.address.replace(/[^A-Za-z0-9_-]/g, '_')}"`)
      }
    }
    const every = await html(everyAction())
    for (const word of ['+ create', '~ update', '-/+ replace', '- delete', '- invalidate']) expect(every).toContain(word)
    const adopt = await html(adoptAndLifecycle())
    for (const word of ['>= import<', '>forget<', '>moved<', '>state only<']) expect(adopt).toContain(word)
  })

  it('puts the errors, destructive and irreversible callouts before drift and the cards, and counts unchanged cards', async () => {
    const g = everyAction()
    g.plan.diagnostics.push({severity: 'error', code: 'test-error', message: 'something is wrong'})
    const page = await html(g)
    const at = (s: string) => {
      expect(page).toContain(s)
      return page.indexOf(s)
    }
    const attention = at('<h2 id="attention-h">Needs attention</h2>')
    expect(attention).toBeLessThan(at('Errors: this plan cannot be applied'))
    expect(at('something is wrong')).toBeLessThan(at('<h3>Destructive: members lose these cards</h3>'))
    expect(at('<h3>Destructive: members lose these cards</h3>')).toBeLessThan(at('<h3>Irreversible: can never be switched off</h3>'))
    expect(at('<h3>Irreversible: can never be switched off</h3>')).toBeLessThan(at('<h2 id="drift-h">'))
    expect(at('<h2 id="drift-h">')).toBeLessThan(at('<section class="change '))
    expect(page).toContain('MemberCard.bookstore-reader will be replaced (forced by brand.brand_id): every member who holds card id-bookstore-reader loses it.')
    expect(page).toContain('rights.show_favor will be switched on and can never be switched off')
    expect(page).toContain('1 card unchanged (not shown).')
    expect(page).not.toContain('id="card-MemberCard_in-sync"')
  })

  it('shows a face before and after, with the card page entries and a text label for the colour', async () => {
    const page = await html(everyAction())
    const basic = page.slice(page.indexOf('id="card-BrandMemberCard_fitness-basic"'))
    expect(basic).toContain('Before (live card)')
    expect(basic).toContain('After (the spec)')
    expect(basic).toContain('aria-label="before face of 动力健身普通会员"')
    expect(basic).toContain('aria-label="after face of 动力健身会员"')
    expect(basic).toContain('Colour <code>#1E88E5</code>')
    expect(basic).toContain('积分 points')
    const coffee = page.slice(page.indexOf('id="card-MemberCard_coffee-member"'))
    expect(coffee).toContain('优惠 offers')
    expect(page).toContain('No card yet: it will be created.')
    expect(page).toContain('Deleted: members who hold the card lose it.')
    expect(page).toContain('Invalidated (作废): members who hold the card lose it.')
    // The long text is a line diff.
    expect(page).toMatch(/<span class="add">\+ 周末团课免预约<\/span>/)
  })

  it('escapes every user string and loads nothing from the network', async () => {
    const cards = exampleCards()
    const evil = '<script>alert("x")</script>&\'"'
    const reader = card(cards, 'bookstore-reader')
    const desired = [withSpec(reader, (s) => ((s.title = evil), (s.brand.display_name = evil), (s.logo_url = 'https://img.example/"><script>x</script>')))]
    const state = appliedState([reader])
    const live = new Map([[reader.address, liveOf(reader)]])
    const page = await buildPlanHtml({plan: plan(desired, state, live), desired, state, live, projectDir, fetchImage: unreachable()})
    expect(page).not.toMatch(/<script/i)
    expect(page).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;&quot;')
    // Self-contained: every src is a data: URI, every href an anchor in the page, no url() in the styles.
    for (const m of page.matchAll(/\b(src|href)="([^"]*)"/g)) expect(m[2]).toMatch(/^(data:image\/|#)/)
    expect(page).not.toMatch(/url\(/)
    expect(page).toMatch(/<html lang="en">/)
  })

  it('embeds reachable images as data: URIs, fetching each URL once, and draws a placeholder with the host otherwise', async () => {
    const green = solidPng([0, 200, 0])
    const calls: string[] = []
    const fetchImage: FetchImage = async (url) => {
      calls.push(url)
      return url.includes('PiajxSqBRaEIPAeia7Imvtsq') ? {ok: true, contentType: 'image/png', bytes: green} : {ok: false, reason: 'no answer within 2 s'}
    }
    const page = await html(everyAction(), fetchImage)
    expect(calls.length).toBe(new Set(calls).size)
    expect(page).toContain(`src="data:image/png;base64,${green.toString('base64')}"`)
    expect(page).toMatch(/alt="logo \(logo_url: https:\/\/wxpaylogo\.qpic\.cn\/[^"]+\)"/)
    expect(page).toContain('<span>image not reachable</span><span>wxpaylogo.qpic.cn</span>')
    expect(page).toContain('background picture not reachable (wxpaylogo.qpic.cn): no answer within 2 s')
  })

  it('shows a field that uploads a local file by path, sha256 prefix and size, with the image itself', async () => {
    const logo = imageFile('assets/logo.png', solidPng([255, 0, 255]))
    const g = everyAction()
    const coffee = g.desired.find((d) => d.name === 'coffee-member')!
    coffee.spec = {...coffee.spec, logo_url: {file: 'logo.png'}}
    coffee.images = {logo_url: logo}
    const change = g.plan.changes.find((c) => c.address === coffee.address)!
    change.field_changes.push({path: 'logo_url', before: coffee.spec.background_picture_url, upload: logo, source: 'config'})
    g.plan.uploads = [logo]
    const fetchImage = unreachable()
    const page = await html(g, fetchImage)
    expect(page).toContain(`(file assets/logo.png, sha256 ${logo.sha256.slice(0, 12)}…, 4×4 png) will be uploaded`)
    const dataUri = `data:image/png;base64,${readPng(logo)}`
    // In the field table, in the list of uploads, and as the after face's logo.
    expect(page.split(dataUri).length - 1).toBeGreaterThanOrEqual(3)
    expect(page).toContain('alt="logo (logo_url: file assets/logo.png)"')
    expect(page).toContain('<h2 id="uploads-h">Images to upload (1)</h2>')
  })

  it("embeds an uploaded URL from the file the state recorded while its sha256 still matches; fetches it otherwise", async () => {
    const bytes = solidPng([0, 0, 255])
    const logo = imageFile('assets/blue.png', bytes)
    const g = everyAction()
    const url = g.state.resources['MemberCard.coffee-member']!.applied.logo_url as string
    g.state.media = {[logo.sha256]: {media_url: url, file: logo.file, bytes: logo.bytes, uploaded_at: '2026-01-01T00:00:00Z'}}
    const fetched = unreachable()
    const page = await html(g, fetched)
    expect(page).toContain(`data:image/png;base64,${bytes.toString('base64')}`)
    expect(fetched.calls).not.toContain(url)

    writeFileSync(path.join(projectDir, logo.file), solidPng([1, 2, 3]))
    const again = unreachable()
    const stale = await html(g, again)
    expect(stale).not.toContain(`data:image/png;base64,${bytes.toString('base64')}`)
    expect(again.calls).toContain(url)
  })

  it('takes the before face from state when the live cards were not read', async () => {
    const g = everyAction()
    const page = await buildPlanHtml({...g, live: new Map(), projectDir, fetchImage: unreachable()})
    expect(page).toContain('Before (as last applied; live card not read)')
    expect(page).not.toContain('Before (live card)')
  })
})

describe('cardFace', () => {
  it('draws the aggregator palette code as its colour and keeps the code as the label', () => {
    const face = cardFace('AggregatorMemberCard', {title: '会员卡', color: 'Color010', supply_bonus: 1, supply_balance: 0, logo_url: 'https://x.example/l.png'})!
    expect(face).toMatchObject({shape: 'aggregator', color: '#63B359', colorLabel: 'Color010', entries: [{label: '积分 points'}]})
    expect(face.logo).toEqual({path: 'logo_url', source: {url: 'https://x.example/l.png'}})
  })

  it('refuses a brand colour that is not #RRGGBB (it would go into a style attribute) but still names it', () => {
    const face = cardFace('BrandMemberCard', {card_title: 't', card_color: 'red;background:url(x)'})!
    expect(face.color).toBeUndefined()
    expect(face.colorLabel).toBe('red;background:url(x)')
  })

  it('shows the level only when the card displays levels, and the points label the card uses', () => {
    const spec = {title: 't', need_display_level: true, init_level: '银卡', rights: {show_bonus: true, bonus: {bonus_value_word: '我的积分'}}}
    expect(cardFace('MemberCard', spec)).toMatchObject({level: '银卡', entries: [{label: '积分 points', detail: '我的积分'}]})
    expect(cardFace('MemberCard', {...spec, need_display_level: false})!.level).toBeUndefined()
  })
})

function readPng(f: ImageFile): string {
  return readFileSync(path.join(projectDir, f.file)).toString('base64')
}
