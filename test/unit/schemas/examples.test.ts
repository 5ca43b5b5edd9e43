import {readFileSync, readdirSync, existsSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import {parseAllDocuments} from 'yaml'
import {packageRoot, schemasDir} from '../../../engine/paths.js'
import {KIND_FILES, type KindName} from '../../../engine/model/schema-semantics.js'
import {problems} from './validate.js'

const cardsDir = path.join(packageRoot, 'examples', 'quickstart', 'cards')
const files = readdirSync(cardsDir).filter((f) => f.endsWith('.yaml')).sort()

interface Card {
  file: string
  document: Record<string, any>
}

const cards: Card[] = files.flatMap((file) => {
  const documents = parseAllDocuments(readFileSync(path.join(cardsDir, file), 'utf8'))
  return documents.map((doc) => {
    expect(doc.errors, file).toEqual([])
    return {file, document: doc.toJS() as Record<string, any>}
  })
})

describe('quickstart example cards', () => {
  it.each(cards.map((c) => [`${c.file} ${c.document.kind}/${c.document.metadata?.name}`, c] as const))('%s validates against its kind schema', (_label, card) => {
    expect(Object.keys(KIND_FILES)).toContain(card.document.kind)
    expect(problems(card.document.kind as KindName, card.document)).toEqual([])
  })

  it.each(files)('%s starts with a yaml-language-server comment naming the schema of its kind', (file) => {
    const text = readFileSync(path.join(cardsDir, file), 'utf8')
    const match = /^# yaml-language-server: \$schema=(\S+)\n/.exec(text)
    expect(match).not.toBeNull()
    const schemaPath = path.resolve(cardsDir, match![1]!)
    expect(existsSync(schemaPath)).toBe(true)
    for (const card of cards.filter((c) => c.file === file)) expect(path.basename(schemaPath)).toBe(KIND_FILES[card.document.kind as KindName])
  })

  it('keeps its own copy of the schemas (for the $schema lines) identical to the package’s: run cardform schema --write -C examples/quickstart', () => {
    const copy = path.join(cardsDir, '..', 'schemas')
    const names = readdirSync(schemasDir).filter((f) => f.endsWith('.schema.json')).sort()
    expect(readdirSync(copy).sort()).toEqual(names)
    for (const name of names) expect(readFileSync(path.join(copy, name), 'utf8'), name).toBe(readFileSync(path.join(schemasDir, name), 'utf8'))
  })

  it('covers both API kinds, a multi-document file, rights with points and a stored-value card', () => {
    expect(cards.length).toBeGreaterThanOrEqual(4)
    expect(new Set(cards.map((c) => c.document.kind))).toEqual(new Set(['MemberCard', 'BrandMemberCard']))
    expect(files.some((f) => cards.filter((c) => c.file === f).length > 1)).toBe(true)
    expect(cards.some((c) => c.document.spec.rights?.show_bonus === true && c.document.spec.rights.bonus !== undefined && c.document.spec.balance_information?.need_balance === true)).toBe(true)
  })

  it('uses unique names per kind and no characters outside the Basic Multilingual Plane (the API refuses 4-byte UTF-8)', () => {
    const addresses = cards.map((c) => `${c.document.kind}/${c.document.metadata.name}`)
    expect(new Set(addresses).size).toBe(addresses.length)
    for (const file of files) expect(readFileSync(path.join(cardsDir, file), 'utf8')).not.toMatch(/[\u{10000}-\u{10FFFF}]/u)
  })
})
