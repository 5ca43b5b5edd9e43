import {describe, expect, it} from 'vitest'
import {interleaveByKind} from '../../../engine/plan/refresh.js'

describe('interleaveByKind', () => {
  it('takes one of each kind in turn, keeping the order within a kind, so every family’s rate budget is busy', () => {
    const items = ['B1', 'B2', 'B3', 'B4', 'M1', 'M2', 'A1']
    expect(interleaveByKind(items, (s) => s[0]!)).toEqual(['B1', 'M1', 'A1', 'B2', 'M2', 'B3', 'B4'])
  })

  it('keeps every item exactly once', () => {
    const items = Array.from({length: 100}, (_, i) => `${'XYZ'[i % 7 === 0 ? 0 : i % 3]}${i}`)
    const out = interleaveByKind(items, (s) => s[0]!)
    expect([...out].sort()).toEqual([...items].sort())
  })
})
