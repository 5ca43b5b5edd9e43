import {describe, expect, it} from 'vitest'
import type {ImageFile} from '../../../engine/model/image.js'
import type {DesiredCard} from '../../../engine/plan/compute-plan.js'
import {markersIn, withMediaUrls} from '../../../engine/plan/images.js'
import {appliedState, card, exampleCards, liveOf, plan, withSpec} from './helpers.js'

const LOGO: ImageFile = {file: 'cards/assets/logo.png', sha256: 'a'.repeat(64), bytes: 327, format: 'png', width: 120, height: 120}
const LOGO2: ImageFile = {...LOGO, sha256: 'b'.repeat(64), bytes: 400}
const PICTURE: ImageFile = {file: 'cards/assets/card.png', sha256: 'c'.repeat(64), bytes: 1399, format: 'png', width: 716, height: 320}

/** `c` with its image field at `field` taken from `image` (the loader's output for `{file: …}`). */
function fromFile(c: DesiredCard, field: string, image: ImageFile): DesiredCard {
  return {...withSpec(c, (s) => (s[field] = {file: image.file.replace('cards/', '')})), images: {...c.images, [field]: image}}
}

describe('plan: image fields from local files', () => {
  it('a new card uploads each distinct image once, before its create, and the create body waits for the URL', () => {
    const cards = exampleCards()
    const coffee = fromFile(card(cards, 'coffee-member'), 'logo_url', LOGO)
    const basic = fromFile(card(cards, 'fitness-basic'), 'card_picture_url', PICTURE)
    const plus = fromFile(card(cards, 'fitness-plus'), 'card_picture_url', PICTURE)
    const p = plan([coffee, basic, plus], null)
    expect(p.uploads).toEqual([PICTURE, LOGO])
    const c = p.changes.find((x) => x.name === 'coffee-member')!
    expect(c.steps.map((s) => s.op)).toEqual(['upload', 'create', 'rights'])
    expect(c.steps[0]).toEqual({op: 'upload', image: LOGO})
    const create = c.steps[1] as {body: Record<string, unknown>}
    expect(create.body.logo_url).toEqual({$upload: LOGO.sha256})
    const field = c.field_changes.find((f) => f.path === 'logo_url')!
    expect(field).toMatchObject({path: 'logo_url', upload: LOGO, source: 'config'})
    expect('after' in field).toBe(false)
    // Both brand cards name the picture: each change uploads it (apply uploads it once), the plan lists it once.
    for (const name of ['fitness-basic', 'fitness-plus']) expect(p.changes.find((x) => x.name === name)!.steps[0]).toEqual({op: 'upload', image: PICTURE})
    expect(p.has_changes).toBe(true)
  })

  it('an image state recorded by sha256 is its URL: no upload and no change when the live card has it', () => {
    const cards = exampleCards()
    const url = 'http://127.0.0.1:9/media/' + LOGO.sha256 + '.png'
    const applied = withSpec(card(cards, 'coffee-member'), (s) => (s.logo_url = url))
    const state = appliedState([applied])
    state.media = {[LOGO.sha256]: {media_url: url, file: LOGO.file, bytes: LOGO.bytes, uploaded_at: '2026-12-01T00:00:00Z'}}
    const desired = fromFile(card(cards, 'coffee-member'), 'logo_url', LOGO)
    const p = plan([desired], state, new Map([[applied.address, liveOf(applied)]]))
    expect(p.changes.map((c) => c.action)).toEqual(['no-op'])
    expect(p.uploads).toBeUndefined()
    expect(p.has_changes).toBe(false)
  })

  it('a changed image uploads only the new one and PATCHes the field; drift on the field compares the live URL with the recorded one', () => {
    const cards = exampleCards()
    const url = 'http://127.0.0.1:9/media/' + LOGO.sha256 + '.png'
    const applied = withSpec(card(cards, 'coffee-member'), (s) => (s.logo_url = url))
    const state = appliedState([applied])
    state.media = {[LOGO.sha256]: {media_url: url, file: LOGO.file, bytes: LOGO.bytes, uploaded_at: '2026-12-01T00:00:00Z'}}
    const changed = plan([fromFile(card(cards, 'coffee-member'), 'logo_url', LOGO2)], state, new Map([[applied.address, liveOf(applied)]]))
    const c = changed.changes[0]!
    expect(c.action).toBe('update')
    expect(c.steps.map((s) => s.op)).toEqual(['upload', 'patch'])
    expect(c.field_changes).toEqual([{path: 'logo_url', before: url, upload: LOGO2, source: 'config'}])
    expect(changed.uploads).toEqual([LOGO2])

    // Someone changed the logo in the console: the recorded URL is what the spec means, so the plan puts it back.
    const console = liveOf(applied, (o) => (o.logo_url = 'https://wxpaylogo.qpic.cn/other/0'))
    const drifted = plan([fromFile(card(cards, 'coffee-member'), 'logo_url', LOGO)], state, new Map([[applied.address, console]]))
    expect(drifted.changes[0]!.field_changes).toEqual([{path: 'logo_url', before: 'https://wxpaylogo.qpic.cn/other/0', after: url, source: 'drift'}])
    expect(drifted.changes[0]!.steps.map((s) => s.op)).toEqual(['patch'])
    expect(drifted.uploads).toBeUndefined()
  })

  it('markers are found anywhere in a body and replaced by URLs; a marker without a URL is an error, never sent', () => {
    const body = {logo_url: {$upload: 'a'}, rights: {guide: {head_image_url: {$upload: 'b'}}}, list: [{$upload: 'a'}], title: 't'}
    expect(markersIn(body)).toEqual(['a', 'b', 'a'])
    expect(withMediaUrls(body, (s) => `u-${s}`)).toEqual({logo_url: 'u-a', rights: {guide: {head_image_url: 'u-b'}}, list: ['u-a'], title: 't'})
    expect(() => withMediaUrls(body, (s) => (s === 'a' ? 'u' : undefined))).toThrow(/no media URL for image sha256 b/)
  })
})
