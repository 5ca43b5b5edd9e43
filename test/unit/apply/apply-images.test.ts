import {createHash} from 'node:crypto'
import {describe, expect, it} from 'vitest'
import {applyPlan} from '../../../engine/apply/apply-plan.js'
import type {CardGateway} from '../../../engine/apply/gateway.js'
import type {ImageFile} from '../../../engine/model/image.js'
import {emptyState, type StateDocument} from '../../../engine/model/state.js'
import type {DesiredCard} from '../../../engine/plan/compute-plan.js'
import {resolveImageFields} from '../../../engine/plan/images.js'
import {StateManager} from '../../../engine/state/state-manager.js'
import {png} from '../../support/images.js'
import {card, exampleCards, plan, wires, withSpec} from '../plan/helpers.js'
import {ScriptedStore} from '../state/scripted-store.js'

const picture = png(716, 320, '#1E88E5')
const PICTURE: ImageFile = {file: 'cards/assets/card.png', sha256: createHash('sha256').update(picture).digest('hex'), bytes: picture.length, format: 'png', width: 716, height: 320}

function brandCards(): DesiredCard[] {
  const cards = exampleCards()
  return ['fitness-basic', 'fitness-plus'].map((name) => ({
    ...withSpec(card(cards, name), (s) => (s.card_picture_url = {file: 'assets/card.png'})),
    images: {card_picture_url: PICTURE},
  }))
}

/** A gateway that records uploads and create bodies; each upload takes a while, so concurrent cards overlap. */
function recordingGateway() {
  const uploads: Array<{filename: string; sha256: string; bytes: number}> = []
  const creates: Array<Record<string, unknown>> = []
  let n = 0
  const gateway: CardGateway = {
    read: async () => ({status: 'gone', detail: 'gone'}),
    create: async (_kind, body) => {
      creates.push(body)
      return {remoteId: `card-${++n}`}
    },
    patch: async () => ({}),
    uploadImage: async (image) => {
      uploads.push({filename: image.filename, sha256: image.sha256, bytes: image.bytes.length})
      await new Promise((r) => setTimeout(r, 30))
      return {mediaUrl: `https://media.example/${image.sha256.slice(0, 8)}.png`}
    },
    setRights: async () => {},
    remove: async () => {},
    describeFailure: (e) => ({message: (e as Error).message, refused: false}),
    close: async () => {},
  }
  return {gateway, uploads, creates}
}

async function run(cards: DesiredCard[], state: StateDocument | null, bytes: Buffer, store = new ScriptedStore(() => undefined, true)) {
  const p = plan(cards, state)
  const resolved = resolveImageFields(cards, state?.media)
  const doc = state ?? emptyState(p.lineage, '0.0.0')
  const g = recordingGateway()
  const result = await applyPlan({
    plan: p,
    desired: new Map(resolved.map((c) => [c.address, {spec: c.spec}])),
    state: new StateManager(store, doc),
    gateway: async () => g.gateway,
    wires,
    parallelism: 4,
    failFast: false,
    readImage: async () => bytes,
  })
  return {p, result, doc, store, ...g}
}

describe('apply: images from local files', () => {
  it('uploads an image two cards share once, records its URL in state, and sends it in both creates', async () => {
    const {result, doc, uploads, creates, store} = await run(brandCards(), null, picture)
    expect(result.failed).toBe(0)
    expect(uploads).toEqual([{filename: 'card.png', sha256: PICTURE.sha256, bytes: picture.length}])
    const url = `https://media.example/${PICTURE.sha256.slice(0, 8)}.png`
    expect(creates.map((b) => b.card_picture_url)).toEqual([url, url])
    expect(doc.media).toEqual({[PICTURE.sha256]: {media_url: url, file: 'cards/assets/card.png', bytes: picture.length, uploaded_at: expect.any(String)}})
    // What state records as applied is the URL, never the marker.
    for (const r of Object.values(doc.resources)) expect(r.applied.card_picture_url).toBe(url)
    // The upload is checkpointed on its own, before the creates that use it.
    const firstMedia = store.appended.findIndex((c) => c.media?.[PICTURE.sha256])
    const firstCreate = store.appended.findIndex((c) => Object.values(c.resources).some((r) => r?.status === 'creating'))
    expect(firstMedia).toBeGreaterThanOrEqual(0)
    expect(firstMedia).toBeLessThan(firstCreate)
  })

  it('never uploads an image whose sha256 state already records', async () => {
    const first = await run(brandCards(), null, picture)
    // The same image for a third card, planned against the state of the first apply.
    const third = {...card(brandCards(), 'fitness-basic'), address: 'BrandMemberCard.fitness-third', name: 'fitness-third'}
    const second = await run([...brandCards(), third], first.doc, picture)
    expect(second.uploads).toEqual([])
    expect(second.p.uploads).toBeUndefined()
    expect(second.creates.map((b) => b.card_picture_url)).toEqual([first.doc.media![PICTURE.sha256]!.media_url])
  })

  it('fails the cards whose file changed since the plan, naming it, and sends nothing for them', async () => {
    const {result, uploads, creates, doc} = await run(brandCards(), null, png(716, 320, '#000000'))
    expect(result.failed).toBe(2)
    expect(result.outcomes.map((o) => [o.failedStep, o.failure?.message])).toEqual([
      ['upload', expect.stringMatching(/^cards\/assets\/card\.png changed since the plan \(sha256 [0-9a-f]{12}…, the plan has [0-9a-f]{12}…\); plan again$/)],
      ['upload', expect.stringMatching(/changed since the plan/)],
    ])
    expect(uploads).toEqual([])
    expect(creates).toEqual([])
    expect(doc.media).toBeUndefined()
    expect(doc.resources).toEqual({})
  })
})
