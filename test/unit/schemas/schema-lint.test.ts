import {readdirSync} from 'node:fs'
import {describe, expect, it} from 'vitest'
import {createAjv} from '../../../engine/spec/ajv.js'
import {schemasDir} from '../../../engine/paths.js'
import {readSchema} from './validate.js'

/**
 * House rules every schema in schemas/ follows. They stand in for checks ajv does not do (or, for strictRequired,
 * cannot do here: see engine/spec/ajv.ts).
 */

const files = readdirSync(schemasDir).filter((f) => f.endsWith('.schema.json')).sort()
const IN_PLACE = ['allOf', 'anyOf', 'oneOf', 'not', 'if', 'then', 'else'] as const

type Node = Record<string, any>

/** Resolve a local `#/definitions/x` reference. */
function resolve(root: Node, node: Node): Node {
  if (typeof node.$ref !== 'string') return node
  return resolve(root, node.$ref.slice(2).split('/').reduce((at: Node, key: string) => at[key], root))
}

/**
 * Visit every schema node with its JSON pointer and the properties declared for the same instance: its own, those of
 * the object it refines (for an if/then/allOf branch) and, for a property refined inside a branch, those of the
 * property's declaration in the enclosing object.
 */
function visit(root: Node, node: unknown, pointer: string, declared: ReadonlyMap<string, Node>, fn: (node: Node, pointer: string, declared: ReadonlyMap<string, Node>) => void): void {
  if (typeof node !== 'object' || node === null || Array.isArray(node)) return
  const n = node as Node
  const own = new Map([...declared, ...Object.entries((n.properties ?? {}) as Record<string, Node>)])
  fn(n, pointer, own)
  for (const [name, child] of Object.entries((n.properties ?? {}) as Record<string, Node>)) {
    const declaration = declared.get(name)
    const inherited = declaration && declaration !== child ? new Map(Object.entries((resolve(root, declaration).properties ?? {}) as Record<string, Node>)) : new Map()
    visit(root, child, `${pointer}/properties/${name}`, inherited, fn)
  }
  for (const [name, child] of Object.entries(n.definitions ?? {})) visit(root, child, `${pointer}/definitions/${name}`, new Map(), fn)
  if (n.items) visit(root, n.items, `${pointer}/items`, new Map(), fn)
  for (const keyword of IN_PLACE) {
    const value = n[keyword]
    if (Array.isArray(value)) value.forEach((child, i) => visit(root, child, `${pointer}/${keyword}/${i}`, own, fn))
    else visit(root, value, `${pointer}/${keyword}`, own, fn)
  }
}

describe.each(files)('%s', (file) => {
  const schema = readSchema(file)

  it('compiles with createAjv (strict mode, x-cardform keywords checked by their meta-schemas)', () => {
    expect(() => createAjv().compile(schema)).not.toThrow()
  })

  it('has draft-07 $schema, an $id named after the file, a title and a description', () => {
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#')
    expect(schema.$id).toBe(`https://cardform.dev/schemas/${file}`)
    expect(typeof schema.title).toBe('string')
    expect(typeof schema.description).toBe('string')
  })

  it('names in every required list only declared properties', () => {
    const undeclared: string[] = []
    visit(schema, schema, '#', new Map(), (node, pointer, declared) => {
      for (const name of node.required ?? []) if (!declared.has(name)) undeclared.push(`${pointer}: ${name}`)
    })
    expect(undeclared).toEqual([])
  })

  it('closes every object that declares properties (additionalProperties: false), so misspelt keys are reported', () => {
    const open: string[] = []
    visit(schema, schema, '#', new Map(), (node, pointer) => {
      if (node.type === 'object' && node.properties && node.additionalProperties !== false) open.push(pointer)
    })
    expect(open).toEqual([])
  })

  it('cites a source in $comment beside every x-cardform keyword', () => {
    const uncited: string[] = []
    visit(schema, schema, '#', new Map(), (node, pointer) => {
      const keywords = Object.keys(node).filter((k) => k.startsWith('x-cardform-') && k !== 'x-cardform-kind')
      if (keywords.length > 0 && !/seed 00[0-3]|reference §|openapi/.test(String(node.$comment ?? ''))) uncited.push(`${pointer} (${keywords.join(', ')})`)
    })
    if (schema['x-cardform-kind']) expect((schema['x-cardform-kind'] as Node).$comment).toMatch(/seed 00[0-3]|reference §/)
    expect(uncited).toEqual([])
  })
})
