import {readFileSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import {packageRoot} from '../../../engine/paths.js'
import {PRECOMPILED_VALIDATORS_FILE, precompileValidators} from '../../../engine/spec/precompile-validators.js'
import {readSchemaSet} from '../../../engine/spec/schema-set.js'
import {loadFixture} from './helpers.js'

describe('precompiled validators (engine/generated/validators)', () => {
  it('match what the schemas compile to now (run `npm run gen:validators` after changing a schema)', () => {
    const committed = readFileSync(path.join(packageRoot, PRECOMPILED_VALIDATORS_FILE), 'utf8')
    expect(committed === precompileValidators(readSchemaSet())).toBe(true)
  })

  it('find exactly what validators compiled at run time find', async () => {
    // A schema set passed in is compiled at run time; the package's own (no `schemas`) uses the precompiled code.
    for (const fixture of ['schema-errors', 'conditional', 'envelope', 'valid', 'config-invalid']) {
      const precompiled = await loadFixture(fixture)
      const compiled = await loadFixture(fixture, {schemas: readSchemaSet()})
      expect(precompiled.diagnostics, fixture).toEqual(compiled.diagnostics)
      expect(precompiled.documents.map((d) => d.spec), fixture).toEqual(compiled.documents.map((d) => d.spec))
    }
    expect((await loadFixture('schema-errors')).diagnostics.length).toBeGreaterThan(5)
  })
})
