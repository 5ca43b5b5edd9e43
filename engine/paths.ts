import {fileURLToPath} from 'node:url'
import path from 'node:path'
import {existsSync} from 'node:fs'

/**
 * The package root: the folder holding package.json and schemas/. Source files run from `engine/` under vitest and
 * from `dist/engine/` when built, so walk up until package.json is found rather than counting levels.
 */
function findPackageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url))
  for (;;) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'schemas'))) return dir
    const parent = path.dirname(dir)
    if (parent === dir) throw new Error('cardform: cannot find the package root (package.json beside schemas/)')
    dir = parent
  }
}

export const packageRoot = findPackageRoot()
export const schemasDir = path.join(packageRoot, 'schemas')
