// Precompile the loader's validators from schemas/ into engine/generated/validators/precompiled.ts.
//
// Run with `npm run gen:validators` (it compiles the TypeScript first, since the generator is engine code). The
// output is committed; test/unit/spec/precompiled-validators.test.ts fails when it differs from what the schemas
// produce now.
import {mkdir, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const {PRECOMPILED_VALIDATORS_FILE, precompileValidators} = await import('../dist/engine/spec/precompile-validators.js')
const {readSchemaSet} = await import('../dist/engine/spec/schema-set.js')

const target = path.join(packageRoot, PRECOMPILED_VALIDATORS_FILE)
await mkdir(path.dirname(target), {recursive: true})
await writeFile(target, precompileValidators(readSchemaSet(path.join(packageRoot, 'schemas'))))
process.stdout.write(`wrote ${PRECOMPILED_VALIDATORS_FILE}\n`)
