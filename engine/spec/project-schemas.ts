import {copyFile, mkdir, readdir, readFile} from 'node:fs/promises'
import path from 'node:path'
import {schemasDir} from '../paths.js'

/**
 * The project's own copy of cardform's JSON Schemas, for editors: `# yaml-language-server: $schema=../schemas/…`
 * written relative to a spec file then resolves wherever the project is checked out, which a path into the cardform
 * package (or this repository) does not. `cardform schema --write` makes the copy; `query --out` makes it when missing.
 */
export const PROJECT_SCHEMAS_DIR = 'schemas'

/** The schema file names of the package, sorted. */
export async function schemaFiles(): Promise<string[]> {
  return (await readdir(schemasDir)).filter((f) => f.endsWith('.schema.json')).sort()
}

/**
 * Copies every schema into `<dir>/schemas/`; an identical file is left alone. Returns the files written (project-
 * relative, `/` separators).
 */
export async function writeProjectSchemas(dir: string): Promise<string[]> {
  const target = path.join(dir, PROJECT_SCHEMAS_DIR)
  await mkdir(target, {recursive: true})
  const written: string[] = []
  for (const file of await schemaFiles()) {
    const from = path.join(schemasDir, file)
    const to = path.join(target, file)
    const [want, have] = await Promise.all([readFile(from, 'utf8'), readFile(to, 'utf8').catch(() => undefined)])
    if (want === have) continue
    await copyFile(from, to)
    written.push(`${PROJECT_SCHEMAS_DIR}/${file}`)
  }
  return written
}

/** The `$schema` reference to the project's copy of `schemaFile`, relative to the spec file `specFile`. */
export function projectSchemaRef(dir: string, specFile: string, schemaFile: string): string {
  const schema = path.resolve(dir, PROJECT_SCHEMAS_DIR, schemaFile)
  return path.relative(path.dirname(path.resolve(specFile)), schema).split(path.sep).join('/')
}
