import {mkdtempSync, writeFileSync, mkdirSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import {loadProject} from '../../../engine/spec/load-project.js'
import {fixturesDir, loadFixture, placed} from './helpers.js'

describe('loadProject', () => {
  it('loads a valid project with one card of each kind and no diagnostics', async () => {
    const project = await loadFixture('valid')
    expect(project.diagnostics).toEqual([])
    expect(project.files).toEqual(['cards/brand/cards.yml', 'cards/gold.yaml'])
    expect(project.documents.map((d) => [d.address, d.file, d.docIndex])).toEqual([
      ['BrandMemberCard.brand-one', 'cards/brand/cards.yml', 0],
      ['AggregatorMemberCard.store-card', 'cards/brand/cards.yml', 1],
      ['MemberCard.gold', 'cards/gold.yaml', 0],
    ])
    expect(project.config).toEqual({cards: 'cards'})
  })

  it('gives the position of any path, falling back to the nearest written ancestor', async () => {
    const project = await loadFixture('valid')
    const gold = project.documents.find((d) => d.address === 'MemberCard.gold')!
    expect(gold.spec.title).toBe('金卡会员')
    expect(gold.positionOf(['spec', 'brand', 'display_name'])).toEqual({file: 'cards/gold.yaml', line: 10, column: 19})
    expect(gold.positionOf(['spec', 'brand', 'display_name'], 'key')).toEqual({file: 'cards/gold.yaml', line: 10, column: 5})
    expect(gold.positionOf(['spec', 'brand', 'not_written', 3])).toEqual({file: 'cards/gold.yaml', line: 8, column: 3})
    const aggregator = project.documents.find((d) => d.address === 'AggregatorMemberCard.store-card')!
    expect(aggregator.positionOf(['spec', 'quantity'])).toEqual({file: 'cards/brand/cards.yml', line: 37, column: 13})
  })

  it('keeps no file text: a position inside a card is read from its file again, and only while the file is unchanged', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cardform-positions-'))
    mkdirSync(path.join(dir, 'cards'))
    writeFileSync(path.join(dir, 'cardform.yaml'), 'cards: cards\n')
    const gold = readFileSync(path.join(fixturesDir, 'valid/cards/gold.yaml'), 'utf8')
    writeFileSync(path.join(dir, 'cards/gold.yaml'), `# a comment first\n${gold}`)
    const project = await loadProject(dir, {env: {}})
    const card = project.documents[0]!
    expect(card.positionOf([])).toEqual({file: 'cards/gold.yaml', line: 2, column: 1})
    expect(card.positionOf(['spec', 'brand', 'display_name'])).toEqual({file: 'cards/gold.yaml', line: 11, column: 19})
    // Edited after loading: positions inside it can no longer be trusted, so the card's start is given instead.
    const other = await loadProject(dir, {env: {}})
    writeFileSync(path.join(dir, 'cards/gold.yaml'), `\n\n${gold}`)
    expect(other.documents[0]!.positionOf(['spec', 'brand', 'display_name'])).toEqual({file: 'cards/gold.yaml', line: 2, column: 1})
  })

  it('counts the valid documents without keeping them when asked not to', async () => {
    const kept = await loadFixture('duplicate')
    const counted = await loadFixture('duplicate', {keepDocuments: false})
    expect(counted.documents).toEqual([])
    expect(counted.documentCount).toBe(kept.documents.length)
    expect(counted.diagnostics).toEqual(kept.diagnostics)
  })

  it('reports every schema error at once with the offending value, limit and suggestion', async () => {
    const {diagnostics, documents} = await loadFixture('schema-errors')
    expect(documents).toEqual([])
    expect(placed(diagnostics)).toEqual([
      'cards/bad.yaml:5:1 schema-required',
      'cards/bad.yaml:6:10 schema-pattern',
      'cards/bad.yaml:7:13 schema-format',
      'cards/bad.yaml:8:3 schema-required',
      'cards/bad.yaml:10:5 schema-unknown-key',
      'cards/bad.yaml:11:10 schema-length',
      'cards/bad.yaml:14:14 schema-enum',
      'cards/bad.yaml:16:19 schema-range',
      'cards/bad.yaml:17:23 schema-type',
      'cards/bad.yaml:18:3 schema-unknown-key',
    ])
    const messages = diagnostics.map((d) => d.message)
    expect(messages).toContain('spec.title: "超长的会员卡名称十一字" is 11 characters; the limit is 10')
    expect(messages).toContain(
      'spec.code_type: "QR_CODE" is not one of BAR_CODE, QRCODE, BAR_CODE_AND_QRCODE, NONE_CODE (did you mean "QRCODE"?)',
    )
    expect(messages).toContain('spec.date_informaton: unknown key (did you mean "date_information"?)')
    expect(messages).toContain('spec.brand.display_name is required (found "display_nme"; is it misspelt?)')
    expect(messages).toContain('spec.total_quantity: 0 is less than the minimum 1')
    expect(messages).toContain('spec.need_display_level: "yes" is a string; expected a boolean (true or false)')
    expect(diagnostics[6]).toMatchObject({path: 'spec.code_type', address: 'MemberCard.bad', severity: 'error'})
  })

  it('explains conditional rules and refuses server-computed and managed fields', async () => {
    const {diagnostics} = await loadFixture('conditional')
    expect(placed(diagnostics)).toEqual([
      'cards/card.yaml:5:1 schema-required',
      'cards/card.yaml:19:5 schema-forbidden',
      'cards/card.yaml:20:3 server-computed-field',
      'cards/card.yaml:21:3 managed-field',
    ])
    expect(diagnostics.map((d) => d.message)).toEqual([
      'spec.init_level is required when spec.need_display_level is true',
      'spec.date_information.available_begin_time may not be set when spec.date_information.type is "PERMANENT"',
      'spec.card_id is set by the server; remove it from the spec',
      'spec.out_request_no is managed by cardform; remove it from the spec',
    ])
  })

  it('refuses an unknown apiVersion or kind with a suggestion, and a document that is not a mapping', async () => {
    const {diagnostics} = await loadFixture('envelope')
    expect(placed(diagnostics)).toEqual([
      'cards/cards.yaml:1:13 unknown-api-version',
      'cards/cards.yaml:8:7 unknown-kind',
      'cards/cards.yaml:13:1 schema-type',
    ])
    expect(diagnostics[0]!.message).toContain('(did you mean "cardform/v1"?)')
    expect(diagnostics[1]!.message).toContain('(did you mean "MemberCard"?)')
  })

  it('names both places of a card defined twice', async () => {
    const {diagnostics, documents} = await loadFixture('duplicate')
    expect(documents.map((d) => d.file)).toEqual(['cards/a.yaml'])
    expect(diagnostics).toEqual([
      {
        severity: 'error',
        code: 'duplicate-name',
        message: 'MemberCard.gold is defined twice: here and at cards/a.yaml:4:9',
        source: {file: 'cards/b.yaml', line: 4, column: 9},
        path: 'metadata.name',
        address: 'MemberCard.gold',
        related: [{file: 'cards/a.yaml', line: 4, column: 9}],
      },
    ])
  })

  it('reports YAML syntax errors with their position', async () => {
    const {diagnostics} = await loadFixture('yaml-syntax')
    expect(placed(diagnostics)).toEqual(['cards/broken.yaml:5:3 yaml-syntax', 'cards/broken.yaml:8:1 yaml-syntax'])
    expect(diagnostics[0]!.message).toBe('YAML syntax error: Map keys must be unique')
  })

  it('interpolates ${env:NAME}, keeps $${ literal, and names a missing variable and where it is used', async () => {
    const missing = await loadFixture('env')
    expect(placed(missing.diagnostics)).toEqual([
      'cards/card.yaml:6:10 env-missing',
      'cards/card.yaml:9:15 env-missing',
      'cards/card.yaml:13:16 env-syntax',
    ])
    expect(missing.diagnostics[0]!.message).toBe(
      'spec.appid: environment variable CARDFORM_TEST_APPID is not set (referenced as ${env:CARDFORM_TEST_APPID})',
    )
    const fixed = await loadFixture('env', {
      env: {CARDFORM_TEST_APPID: 'wxabcdefabcdef0123', CARDFORM_TEST_MISSING: '42'},
    })
    expect(placed(fixed.diagnostics)).toEqual(['cards/card.yaml:13:16 env-syntax'])
  })

  it('applies interpolation to a valid card', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cardform-env-'))
    mkdirSync(path.join(dir, 'cards'))
    writeFileSync(path.join(dir, 'cardform.yaml'), 'cards: ${env:CARDS_DIR}\n')
    const gold = (await import('node:fs')).readFileSync(path.join(fixturesDir, 'valid/cards/gold.yaml'), 'utf8')
    writeFileSync(
      path.join(dir, 'cards/gold.yaml'),
      gold.replace('appid: wx1234567890abcdef', 'appid: ${env:APPID}').replace('description: 会员卡使用说明', () => 'description: "$${not} ${env:WORD}"'),
    )
    const project = await loadProject(dir, {env: {APPID: 'wxabcdefabcdef0123', WORD: 'x', CARDS_DIR: 'cards'}})
    expect(project.diagnostics).toEqual([])
    expect(project.documents[0]!.spec.appid).toBe('wxabcdefabcdef0123')
    expect(project.documents[0]!.spec.description).toBe('${not} x')
  })

  it('carries metadata.import_id, the card a document adopts, only on the documents that set it', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cardform-import-'))
    mkdirSync(path.join(dir, 'cards'))
    writeFileSync(path.join(dir, 'cardform.yaml'), 'cards: cards\n')
    const gold = readFileSync(path.join(fixturesDir, 'valid/cards/gold.yaml'), 'utf8')
    writeFileSync(path.join(dir, 'cards/a.yaml'), gold.replace('  name: gold', '  name: adopted\n  import_id: pXv3kT9q2m8W'))
    writeFileSync(path.join(dir, 'cards/b.yaml'), gold)
    const project = await loadProject(dir, {env: {}})
    expect(project.diagnostics).toEqual([])
    expect(project.documents.map((d) => [d.address, d.importId])).toEqual([
      ['MemberCard.adopted', 'pXv3kT9q2m8W'],
      ['MemberCard.gold', undefined],
    ])
    expect('importId' in project.documents[1]!).toBe(false)
  })

  it('refuses characters outside the Basic Multilingual Plane', async () => {
    const {diagnostics} = await loadFixture('astral')
    expect(placed(diagnostics)).toEqual(['cards/card.yaml:11:10 astral-character'])
    expect(diagnostics[0]!.message).toContain('"😀" (U+1F600)')
  })

  it('refuses alias bombs, self-referencing aliases and absurd nesting', async () => {
    const {diagnostics} = await loadFixture('hostile')
    expect(placed(diagnostics)).toEqual([
      'cards/bomb.yaml:1:1 alias-limit',
      'cards/cycle.yaml:6:13 nesting-limit',
      'cards/deep.yaml:3:71 nesting-limit',
      'cards/very-deep.yaml:1:259 nesting-limit',
    ])
  })

  it('refuses a file over the size cap without reading it, and too many documents in a file', async () => {
    const big = await loadFixture('valid', {limits: {maxFileBytes: 600}})
    expect(placed(big.diagnostics)).toEqual(['cards/brand/cards.yml:1:1 file-too-large'])
    expect(big.documents.map((d) => d.address)).toEqual(['MemberCard.gold'])
    const many = await loadFixture('valid', {limits: {maxDocumentsPerFile: 1}})
    expect(placed(many.diagnostics)).toEqual(['cards/brand/cards.yml:21:1 document-limit'])
  })

  it('reads a card file of exactly the size cap, refuses one a byte over with its true size', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cardform-cap-'))
    mkdirSync(path.join(dir, 'cards'))
    writeFileSync(path.join(dir, 'cardform.yaml'), 'cards: cards\n')
    const card = readFileSync(path.join(fixturesDir, 'valid/cards/gold.yaml'))
    writeFileSync(path.join(dir, 'cards/gold.yaml'), card)
    const exact = await loadProject(dir, {env: {}, limits: {maxFileBytes: card.length}})
    expect(exact.diagnostics).toEqual([])
    expect(exact.documents.map((d) => d.address)).toEqual(['MemberCard.gold'])
    const over = await loadProject(dir, {env: {}, limits: {maxFileBytes: card.length - 1}})
    expect(over.diagnostics.map((d) => d.message)).toEqual([`cards/gold.yaml is ${card.length} bytes; the limit is ${card.length - 1} bytes (a card file is a few kilobytes)`])
  })

  it('validates cardform.yaml and reports a missing one or a missing cards directory', async () => {
    const invalid = await loadFixture('config-invalid')
    expect(placed(invalid.diagnostics)).toEqual(['cardform.yaml:1:1 config-invalid', 'cardform.yaml:4:3 config-invalid'])
    expect(invalid.diagnostics[0]!.message).toBe('card: unknown key (did you mean "cards"?)')
    expect(invalid.config).toBeUndefined()
    const missing = await loadProject(mkdtempSync(path.join(tmpdir(), 'cardform-empty-')))
    expect(missing.diagnostics.map((d) => d.code)).toEqual(['config-missing'])
    const noCards = await loadFixture('missing-cards')
    expect(placed(noCards.diagnostics)).toEqual(['cardform.yaml:1:1 config-invalid'])
  })
})
