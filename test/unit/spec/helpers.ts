import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {formatPosition, type Diagnostic} from '../../../engine/model/diagnostic.js'
import {loadProject, type LoadOptions, type Project} from '../../../engine/spec/load-project.js'

/** test/fixtures/specs/, found from this file whether it runs from test/ or dist/test/. */
export const fixturesDir = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)).replace(/[\\/]dist[\\/]test[\\/]/, `${path.sep}test${path.sep}`),
  '../../fixtures/specs',
)

export function loadFixture(name: string, options: LoadOptions = {}): Promise<Project> {
  return loadProject(path.join(fixturesDir, name), {env: {}, ...options})
}

/** `file:line:column code` per diagnostic: compact, exact assertions on where and what. */
export function placed(diagnostics: readonly Diagnostic[]): string[] {
  return diagnostics.map((d) => `${formatPosition(d.source)} ${d.code}`)
}
