import {afterEach, describe, expect, it} from 'vitest'
import {createProject, type TestProject} from './project.js'

let p: TestProject | undefined
afterEach(async () => {
  await p?.close()
  p = undefined
})

describe('apply progress of a replacement', () => {
  it('names the new card as created and the old card as deleted or invalidated', async () => {
    p = await createProject()
    const first = await p.cli(['apply', '--auto-approve', '--allow-irreversible'])
    expect(first.code, first.stdout + first.stderr).toBe(0)
    const before = p.state().resources
    const oldReader = before['MemberCard.bookstore-reader']!.remote_id!
    const oldPlus = before['BrandMemberCard.fitness-plus']!.remote_id!
    p.edit('cards/bookstore-reader.yaml', 'brand_id: "1002731855"', 'brand_id: "1002731856"')
    p.edit('cards/brand-cards.yaml', 'code_type: QR_CODE', 'code_type: BAR_CODE')
    const r = await p.cli(['apply', '--auto-approve', '--allow-destroy'])
    expect(r.code, r.stdout + r.stderr).toBe(0)
    const after = p.state().resources
    const newReader = after['MemberCard.bookstore-reader']!.remote_id!
    const newPlus = after['BrandMemberCard.fitness-plus']!.remote_id!
    expect(newReader).not.toBe(oldReader)
    expect(newPlus).not.toBe(oldPlus)
    const lines = r.stdout.split('\n').filter((l) => l.startsWith('✓ '))
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringContaining(`MemberCard.bookstore-reader: create done (card ${newReader})`),
        expect.stringContaining(`MemberCard.bookstore-reader: delete done (card ${oldReader})`),
        expect.stringContaining(`BrandMemberCard.fitness-plus: create done (card ${newPlus})`),
        expect.stringContaining(`BrandMemberCard.fitness-plus: invalidate done (card ${oldPlus})`),
      ]),
    )
    expect(p.emulator.admin.getCard(oldReader)!.card.status).toBe('DELETED')
    expect(p.emulator.admin.getCard(oldPlus)!.card.state).toBe('CARD_INVALID')
  })
})
