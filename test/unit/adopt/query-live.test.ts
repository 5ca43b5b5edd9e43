import {describe, expect, it} from 'vitest'
import {brandsToList, sortOutListed, takenNames, type ListedOfKind} from '../../../engine/adopt/query-live.js'
import {loadKindSemantics} from '../../../engine/model/schema-semantics.js'
import {emptyState, type ResourceState, type StateDocument} from '../../../engine/model/state.js'
import type {SpecDocument} from '../../../engine/spec/load-project.js'

const semantics = loadKindSemantics()

function resource(kind: string, name: string, over: Partial<ResourceState>): ResourceState {
  return {kind, name, status: 'created', out_request_no: `cf-${name}`, generation: 1, applied: {}, write_only: {}, updated_at: '2026-01-01T00:00:00Z', ...over}
}

function doc(kind: string, name: string, spec: Record<string, unknown>, importId?: string): SpecDocument {
  return {
    address: `${kind}.${name}`,
    kind,
    name,
    metadata: {name, ...(importId ? {import_id: importId} : {})},
    spec,
    file: 'cards/x.yaml',
    docIndex: 0,
    positionOf: () => ({file: 'cards/x.yaml', line: 1, column: 1}),
    ...(importId ? {importId} : {}),
  }
}

function listed(kind: string, cardId: string, object: Record<string, unknown> = {}, gone?: string): ListedOfKind {
  return {kind, card: {remoteId: cardId, object: {card_id: cardId, ...object}, ...(gone ? {gone} : {})}}
}

const state: StateDocument = {
  ...emptyState('lineage', '0.1.0'),
  resources: {
    'MemberCard.gold': resource('MemberCard', 'gold', {remote_id: 'p-gold', deposed: 'p-old-gold'}),
    'MemberCard.silver': resource('MemberCard', 'silver', {status: 'creating', out_request_no: 'cf-journaled'}),
    'BrandMemberCard.fit': resource('BrandMemberCard', 'fit', {remote_id: 'b-fit', applied: {brand_id: '1004'}}),
  },
}

describe('sortOutListed', () => {
  it('skips cards that are gone, in state (also a deposed one), journaled by an interrupted create, or imported by a spec', () => {
    const documents = [doc('MemberCard', 'adopted', {}, 'p-adopted')]
    const {unmanaged, skipped} = sortOutListed(
      [
        listed('MemberCard', 'p-new-2', {create_time: '2026-02-02T00:00:00+08:00', title: '新卡'}),
        listed('MemberCard', 'p-deleted', {title: '删'}, 'status DELETED'),
        listed('MemberCard', 'p-gold'),
        listed('MemberCard', 'p-old-gold'),
        listed('MemberCard', 'p-silver', {out_request_no: 'cf-journaled'}),
        listed('MemberCard', 'p-adopted'),
        listed('BrandMemberCard', 'b-fit'),
        // Same card_id in another kind: not the state's card.
        listed('BrandMemberCard', 'p-gold', {card_title: '同号'}),
        listed('MemberCard', 'p-new-1', {create_time: '2026-01-01T00:00:00+08:00'}),
      ],
      state,
      documents,
      semantics,
    )
    expect(unmanaged.map((e) => `${e.kind}:${e.card.remoteId}`)).toEqual(['MemberCard:p-new-1', 'MemberCard:p-new-2', 'BrandMemberCard:p-gold'])
    expect(skipped.map((s) => [s.card_id, s.reason, s.detail])).toEqual([
      ['p-deleted', 'gone', 'status DELETED'],
      ['p-gold', 'in-state', 'MemberCard.gold'],
      ['p-old-gold', 'in-state', 'MemberCard.gold'],
      ['p-silver', 'create-interrupted', 'MemberCard.silver'],
      ['p-adopted', 'import-pending', 'MemberCard.adopted'],
      ['b-fit', 'in-state', 'BrandMemberCard.fit'],
    ])
    expect(skipped[0]!.title).toBe('删')
  })
})

describe('brandsToList', () => {
  const lister = {canList: (kind: string) => kind !== 'AggregatorMemberCard', listScope: (kind: string) => (kind === 'BrandMemberCard' ? ('brand' as const) : ('merchant' as const))}

  it('takes the brand_ids given, of brand-scoped specs and of the state, once each', () => {
    const documents = [doc('BrandMemberCard', 'a', {brand_id: '2000'}), doc('MemberCard', 'b', {brand: {brand_id: '3000'}})]
    expect(brandsToList(documents, state, lister, ['5000', '2000'])).toEqual(['1004', '2000', '5000'])
    expect(brandsToList([], null, lister)).toEqual([])
  })
})

describe('takenNames', () => {
  it('collects the names of the specs and of the state, by kind', () => {
    const taken = takenNames([doc('MemberCard', 'bronze', {})], state)
    expect(taken.get('MemberCard')).toEqual(new Set(['bronze', 'gold', 'silver']))
    expect(taken.get('BrandMemberCard')).toEqual(new Set(['fit']))
  })
})
