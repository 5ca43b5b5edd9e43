import {readdirSync, statSync, type Dirent, type Stats} from 'node:fs'
import {availableParallelism, loadavg} from 'node:os'
import path from 'node:path'
import type {Diagnostic, SourcePosition} from '../model/diagnostic.js'
import {appendAll, capDiagnostics, checkSpecFile, filePositions, readBounded, withPlainEnvironment, type CheckedFile} from './check-file.js'
import {checkFilesInParallel} from './check-files-in-parallel.js'
import {createDefaultSpecValidator} from './default-validator.js'
import {locate} from './finding.js'
import {LOADER_LIMITS, type LoaderLimits} from './limits.js'
import {parseYamlDocuments} from './parse-yaml.js'
import {prepareValue, type Environment, type InterpolationSource} from './prepare-values.js'
import {loadVariables, unusedVariables, type VariableInputs, type Variables} from './variables.js'
import type {SchemaSet} from './schema-set.js'
import {defaultKindSemantics, type KindSemantics} from '../model/schema-semantics.js'
import {didYouMean} from './did-you-mean.js'
import {resolveImages, type ImageCache} from './images.js'
import {shareStrings} from './share-strings.js'
import type {ImageFile} from '../model/image.js'
import {positionIn, type FieldPath, type PositionTarget} from './source-map.js'
import {createSpecValidator, type SpecValidator} from './spec-validator.js'

export const CONFIG_FILE = 'cardform.yaml'

/** One card definition from the project, valid against its kind's schema. */
export interface SpecDocument {
  /** `Kind.name` (engine/model/address.ts), unique in the project. */
  address: string
  kind: string
  name: string
  /** The document's `metadata` mapping (name, description, import_id, moved_from, lifecycle), after interpolation. */
  metadata: Record<string, unknown>
  /** The document's `spec` mapping as plain JS, after `${env:NAME}` interpolation. */
  spec: Record<string, unknown>
  /** File path relative to the project directory, with `/` separators. */
  file: string
  /** 0-based index of the document within its file. */
  docIndex: number
  /** metadata.import_id: the card_id of an existing card this document adopts (made outside cardform). */
  importId?: string
  /** Image fields written as `{file: …}`, by dotted spec path, as read and checked (engine/spec/images.ts). */
  images?: Record<string, ImageFile>
  /**
   * Where a field is written: `path` is from the document root (`['spec', 'brand', 'display_name']`). Works for any
   * path; one that is not written falls back to its nearest written ancestor. The file is read again for any path
   * but `[]` (the document's start, which is kept); if it has changed since loading, the document's start is given.
   */
  positionOf(path: FieldPath, target?: PositionTarget): SourcePosition
}

/** The project configuration (cardform.yaml) as plain JS after interpolation; its shape is config.schema.json's. */
export type ProjectConfig = Record<string, unknown>

export interface Project {
  /** Undefined when cardform.yaml is missing or invalid. */
  config: ProjectConfig | undefined
  /**
   * Documents without errors, in file order then document order. Ones with errors are left out. Empty when loaded
   * with `keepDocuments: false`.
   */
  documents: SpecDocument[]
  /** How many documents were found without errors: `documents.length`, also when they were not kept. */
  documentCount: number
  /** Spec files read (relative to the project directory), sorted. */
  files: string[]
  /** Everything found, sorted by file, line and column. */
  diagnostics: Diagnostic[]
  /** The `${var.NAME}` values the project was read with (all of them, used or not); absent when none were given. */
  variables?: Record<string, string | number | boolean>
}

export interface LoadOptions {
  /** Source of `${env:NAME}`; defaults to the process environment. */
  env?: Environment
  /** Source of `${var.NAME}`: --var-file paths (relative to the project directory) and --var NAME=VALUE. */
  variables?: VariableInputs
  /**
   * Values already read, e.g. those a saved plan was made with; used instead of `variables`, and never reported
   * `var-unused` (they were checked when the plan was made).
   */
  resolvedVariables?: Record<string, string | number | boolean>
  /** Schemas to validate against; defaults to the package's schemas/. */
  schemas?: SchemaSet
  limits?: Partial<LoaderLimits>
  /**
   * Worker threads for checking spec files, at most 2 (MAX_WORKERS); fewer than 2 means none. By default, the CPUs that the
   * one-minute load average leaves idle. Workers are used only for projects of more than `parallelAbove` files
   * (default 200): starting one (a new V8 instance that compiles the schemas again) costs about what checking a
   * couple of hundred files does.
   */
  workers?: number
  parallelAbove?: number
  /**
   * Whether to return the documents (default true). Without them (`cardform validate`, which only reports), each
   * file's documents are checked against the project (duplicate names, images) and then dropped, so memory does not
   * grow with the project (kept, 100,000 cards hold some 120 MB of heap).
   */
  keepDocuments?: boolean
}

const PARALLEL_ABOVE = 200
/**
 * Each worker is a V8 instance of its own, some 40 MB beside its heap (WORKER_HEAP): checking 100,000 cards took
 * 174 MB with two workers, 211 MB with three and 227 MB with four, and a load stays within 200 MB only with two.
 * Two workers already bring 100,000 cards from 17 s to 11 s on this thread's 2-CPU machine.
 */
const MAX_WORKERS = 2

let defaultValidator: SpecValidator | undefined
const validators = new WeakMap<SchemaSet, SpecValidator>()

/** One validator per schema set, for the life of the process. */
function validatorFor(schemas: SchemaSet | undefined): SpecValidator {
  if (!schemas) return (defaultValidator ??= createDefaultSpecValidator())
  let validator = validators.get(schemas)
  if (!validator) validators.set(schemas, (validator = createSpecValidator(schemas)))
  return validator
}

/** The kinds the default schemas define, sorted. */
export function knownKinds(): readonly string[] {
  return validatorFor(undefined).kinds
}

/**
 * Loads a cardform project: `dir/cardform.yaml`, then every `*.yaml`/`*.yml` under the cards directory it names
 * (recursively, in sorted order), each validated against its kind's schema. User errors never throw; they come
 * back as diagnostics. Only our own faults (unreadable schemas, say) throw. Large projects are checked on worker
 * threads; the result is the same either way.
 */
export async function loadProject(dir: string, options: LoadOptions = {}): Promise<Project> {
  const limits: LoaderLimits = {...LOADER_LIMITS, ...options.limits}
  const env = options.env ?? process.env
  const validator = validatorFor(options.schemas)
  const diagnostics: Diagnostic[] = []
  let variables: Variables | undefined
  if (options.resolvedVariables) {
    variables = {values: options.resolvedVariables, definedAt: {}, origin: 'the saved plan'}
  } else {
    const loaded = loadVariables(dir, options.variables ?? {})
    if (loaded.diagnostics.length > 0) return failed(loaded.diagnostics)
    variables = loaded.variables
  }
  const source: InterpolationSource = {env, vars: variables?.values, varOrigin: variables?.origin}
  const used = new Set<string>()

  const config = withPlainEnvironment(() => loadConfig(dir, source, limits, validator, diagnostics, used))
  if (!config) return failed(diagnostics)

  const cardsSetting = typeof config.cards === 'string' ? config.cards : 'cards'
  const cardsDir = path.resolve(dir, cardsSetting)
  const relative = relativeTo(dir)
  if (isOutside(dir, cardsDir)) {
    diagnostics.push({
      severity: 'error',
      code: 'config-invalid',
      message: `cards: ${JSON.stringify(cardsSetting)} is outside the project directory; card files are read only from within it (a symbolic link inside the project may point elsewhere)`,
      source: {file: CONFIG_FILE, line: 1, column: 1},
    })
    return failed(diagnostics)
  }
  const specFiles = listSpecFiles(cardsDir, path.resolve(dir, CONFIG_FILE), diagnostics, relative).map(
    (absolute): [string, string] => [absolute, relative(absolute)],
  )
  const workers = Math.min(options.workers ?? idleCpus(), MAX_WORKERS)
  const collector = new DocumentCollector(dir, limits, options.keepDocuments ?? true, diagnostics)
  const take = (checked: CheckedFile) => {
    for (const name of checked.usedVariables) used.add(name)
    collector.add(checked)
  }
  if (workers >= 2 && specFiles.length > (options.parallelAbove ?? PARALLEL_ABOVE)) {
    const setup = {env: {...env}, vars: variables?.values, varOrigin: variables?.origin, limits, schemas: options.schemas}
    const checkHere = (absolute: string, file: string) => withPlainEnvironment(() => checkSpecFile(absolute, file, {...source, limits, validator}))
    await checkFilesInParallel(specFiles, setup, workers, take, checkHere)
  } else {
    // One file at a time, and nothing of it but its checked documents kept: no text, no parse tree.
    withPlainEnvironment(() => specFiles.forEach(([absolute, file]) => take(checkSpecFile(absolute, file, {...source, limits, validator}))))
  }
  if (variables && !options.resolvedVariables) diagnostics.push(...unusedVariables(variables, used))
  return {
    config,
    documents: collector.documents,
    documentCount: collector.count,
    files: specFiles.map(([, file]) => file),
    diagnostics: sortDiagnostics(diagnostics),
    ...(variables ? {variables: {...variables.values}} : {}),
  }
}

function failed(diagnostics: Diagnostic[]): Project {
  return {config: undefined, documents: [], documentCount: 0, files: [], diagnostics: sortDiagnostics(diagnostics)}
}

/**
 * CPUs nothing else is using, going by the load average. Workers only pay off on idle CPUs: measured on a 2-CPU
 * machine already running four or five busy processes, two workers took 1.5 times as long as the main thread
 * alone (each ran at half speed or worse and compiled the schemas again), so a busy machine gets none.
 */
function idleCpus(): number {
  return Math.floor(availableParallelism() - loadavg()[0]!)
}

/**
 * Puts the checked files together, one at a time in file order: their diagnostics, and their documents less any
 * whose address an earlier document already took, that names ignore_changes paths wrongly, or whose image files
 * fail their checks. Of a document dropped after checking (`keep` false) only its address and where it is stay, for
 * the duplicate check: as numbers, since at 100,000 cards a closure per address was 15 MB more live heap, and V8
 * lets the heap grow to some five times what is live.
 */
class DocumentCollector {
  readonly documents: SpecDocument[] = []
  count = 0
  /** Files seen, by ordinal. */
  private readonly files: Array<Pick<CheckedFile, 'file' | 'absolute' | 'fingerprint'>> = []
  /** Address of every document taken (a flat copy: `Kind.name` is built as a rope) → its ordinal in `origins`. */
  private readonly firstByAddress = new Map<string, number>()
  /** Four numbers per document read: file ordinal, document index, line and column of its start; `size` used. */
  private origins = new Int32Array(4096)
  private size = 0
  private readonly positionsOf: ReturnType<typeof filePositions>
  private readonly images: ImageCache = new Map()
  /** Strings of the kept documents, one copy of each (share-strings.ts). */
  private readonly strings = new Map<string, string>()

  constructor(
    private readonly dir: string,
    limits: LoaderLimits,
    private readonly keep: boolean,
    private readonly diagnostics: Diagnostic[],
  ) {
    this.positionsOf = filePositions(limits)
  }

  add(checked: CheckedFile): void {
    appendAll(this.diagnostics, checked.diagnostics)
    const fileOrdinal = this.files.push({file: checked.file, absolute: checked.absolute, fingerprint: checked.fingerprint}) - 1
    const accepted: SpecDocument[] = []
    for (const {docIndex, start, ...rest} of checked.documents) {
      const origin = this.addOrigin(fileOrdinal, docIndex, start.line, start.column)
      const document: SpecDocument = {...rest, file: checked.file, docIndex, positionOf: this.positionOfOrigin(origin)}
      const first = this.firstByAddress.get(document.address)
      if (first !== undefined) {
        const here = document.positionOf(['metadata', 'name'])
        const there = this.positionOfOrigin(first)(['metadata', 'name'])
        this.diagnostics.push({
          severity: 'error',
          code: 'duplicate-name',
          message: `${document.address} is defined twice: here and at ${there.file}:${there.line}:${there.column}`,
          source: here,
          path: 'metadata.name',
          address: document.address,
          related: [there],
        })
        continue
      }
      const problems = checkIgnoreChanges(document)
      appendAll(this.diagnostics, problems)
      if (problems.length > 0) continue
      this.firstByAddress.set(JSON.parse(JSON.stringify(document.address)) as string, origin)
      accepted.push(document)
    }
    const images = resolveImages(accepted, this.dir, this.images)
    appendAll(this.diagnostics, images.diagnostics)
    for (const document of accepted) {
      if (images.rejected.has(document)) continue
      this.count++
      if (!this.keep) continue
      shareStrings(document.spec, this.strings)
      shareStrings(document.metadata, this.strings)
      this.documents.push(document)
    }
  }

  private addOrigin(...numbers: [file: number, docIndex: number, line: number, column: number]): number {
    if (this.size + 4 > this.origins.length) {
      const grown = new Int32Array(this.origins.length * 2)
      grown.set(this.origins)
      this.origins = grown
    }
    this.origins.set(numbers, this.size)
    this.size += 4
    return this.size / 4 - 1
  }

  /**
   * `positionOf` of the document at `origin`. Its own start is known; a position inside it needs its file again,
   * and falls back to the start when that file cannot be read or has changed since.
   */
  private positionOfOrigin(origin: number): SpecDocument['positionOf'] {
    const o = this.origins
    const located = this.files[o[origin * 4]!]!
    const [docIndex, line, column] = [o[origin * 4 + 1]!, o[origin * 4 + 2]!, o[origin * 4 + 3]!]
    const positionsOf = this.positionsOf
    return (fieldPath, target) => {
      const index = fieldPath.length === 0 ? undefined : positionsOf(located)?.get(docIndex)
      return index ? positionIn(index, located.file, fieldPath, target) : {file: located.file, line, column}
    }
  }
}

/**
 * metadata.lifecycle.ignore_changes names spec fields by dotted path: each must be a field the kind's schema declares
 * (a misspelt path would silently ignore nothing), and not one the server sets (there is nothing to ignore).
 */
function checkIgnoreChanges(document: SpecDocument): Diagnostic[] {
  const lifecycle = document.metadata.lifecycle as {ignore_changes?: unknown} | undefined
  const paths = lifecycle?.ignore_changes
  if (!Array.isArray(paths) || paths.length === 0) return []
  const semantics = (defaultKindSemantics() as Record<string, KindSemantics | undefined>)[document.kind]
  if (!semantics) return []
  const out: Diagnostic[] = []
  paths.forEach((p, i) => {
    if (typeof p !== 'string') return
    const where = {source: document.positionOf(['metadata', 'lifecycle', 'ignore_changes', i]), path: `metadata.lifecycle.ignore_changes[${i}]`, address: document.address}
    if (!semantics.paths.has(p)) {
      const known = [...semantics.paths]
      out.push({
        severity: 'error',
        code: 'ignore-changes-unknown-field',
        message: `${document.address}: ignore_changes names "${p}", which is not a field of ${document.kind} spec${didYouMean(p, known)}`,
        ...where,
      })
    } else if (semantics.fields.get(p)?.serverComputed || semantics.fields.get(p)?.managed) {
      out.push({
        severity: 'error',
        code: 'ignore-changes-server-field',
        message: `${document.address}: ignore_changes names "${p}", which the ${semantics.fields.get(p)?.managed ? 'cardform' : 'server'} sets; a spec never sets it, so there is nothing to ignore`,
        ...where,
      })
    }
  })
  return out
}

function loadConfig(
  dir: string,
  source: InterpolationSource,
  limits: LoaderLimits,
  validator: SpecValidator,
  diagnostics: Diagnostic[],
  used: Set<string>,
): ProjectConfig | undefined {
  const absolute = path.resolve(dir, CONFIG_FILE)
  let isFile = false
  try {
    isFile = statSync(absolute).isFile()
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code !== 'ENOENT' && code !== 'ENOTDIR') {
      // There is one, but it cannot be read (a link cycle, no permission): "no cardform.yaml" would mislead.
      diagnostics.push({severity: 'error', code: 'file-unreadable', message: `cannot read ${CONFIG_FILE}: ${code ?? String(error)}`, source: {file: CONFIG_FILE, line: 1, column: 1}})
      return undefined
    }
  }
  if (!isFile) {
    diagnostics.push({
      severity: 'error',
      code: 'config-missing',
      message: `no ${CONFIG_FILE} in ${dir}; a cardform project keeps its settings there (see examples/quickstart)`,
    })
    return undefined
  }
  const text = readBounded(absolute, CONFIG_FILE, limits, diagnostics)
  if (text === undefined) return undefined
  const parsed = parseYamlDocuments(text, CONFIG_FILE, {...limits, maxDocumentsPerFile: 1})
  appendAll(diagnostics, capDiagnostics(parsed.diagnostics, CONFIG_FILE, limits))
  if (parsed.diagnostics.length > 0) return undefined
  const yamlDoc = parsed.documents[0]
  const prepared = prepareValue(yamlDoc?.value ?? {}, source, limits.maxDepth)
  for (const name of prepared.usedVariables) used.add(name)
  const findings = [...prepared.findings, ...validator.checkConfig(prepared.value)]
  if (findings.length > 0) {
    const positions = yamlDoc?.positions() ?? {lineStarts: [0], nodes: new Map(), documentOffset: 0}
    appendAll(diagnostics, capDiagnostics(locate(findings, positions, CONFIG_FILE, undefined), CONFIG_FILE, limits))
    return undefined
  }
  return prepared.value as ProjectConfig
}

/**
 * Whether `target` lies outside `dir`, judged on the paths as written. A project is a repository anyone with push
 * rights may change: `cards: /` or `cards: ../../..` would walk the whole disk and quote other people's YAML (secrets
 * included) in its diagnostics. A symbolic link committed inside the project is an explicit, reviewable choice and is
 * followed.
 */
function isOutside(dir: string, target: string): boolean {
  const rel = path.relative(path.resolve(dir), target)
  return rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)
}

/**
 * Every `.yaml`/`.yml` under `root`, sorted by path so results do not depend on the file system's order. Hidden
 * entries (`.git`, `.cardform`) and node_modules are skipped; symbolic links are followed to files only, so a link
 * cycle cannot make the walk endless. Whatever cannot be read is reported, never skipped in silence: a card file that
 * vanished from the project would make the plan delete its card.
 */
function listSpecFiles(root: string, configFile: string, diagnostics: Diagnostic[], relative: (p: string) => string): string[] {
  const files: string[] = []
  let rootIsDir = false
  try {
    rootIsDir = statSync(root).isDirectory()
  } catch {
    rootIsDir = false
  }
  if (!rootIsDir) {
    diagnostics.push({
      severity: 'error',
      code: 'config-invalid',
      message: `the cards directory ${relative(root) || '.'} named in ${CONFIG_FILE} does not exist`,
      source: {file: CONFIG_FILE, line: 1, column: 1},
    })
    return files
  }
  const problem = (full: string, severity: Diagnostic['severity'], code: string, message: string) =>
    diagnostics.push({severity, code, message: `${relative(full)} ${message}`, source: {file: relative(full), line: 1, column: 1}})
  const pending = [root]
  while (pending.length > 0) {
    const current = pending.pop()!
    let entries: Dirent[]
    try {
      entries = readdirSync(current, {withFileTypes: true})
    } catch (error) {
      problem(current, 'error', 'file-unreadable', `cannot be listed: ${(error as NodeJS.ErrnoException).code ?? String(error)}`)
      continue
    }
    for (const entry of entries) {
      if (entry.name.startsWith('.') || entry.name === 'node_modules') continue
      const full = path.join(current, entry.name)
      const isSpec = /\.ya?ml$/.test(entry.name) && full !== configFile
      if (entry.isDirectory()) pending.push(full)
      else if (entry.isSymbolicLink()) {
        let target: Stats
        try {
          target = statSync(full)
        } catch (error) {
          if (isSpec) problem(full, 'error', 'file-unreadable', `is a symbolic link that cannot be followed: ${(error as NodeJS.ErrnoException).code ?? String(error)}`)
          continue
        }
        if (target.isDirectory()) {
          problem(full, 'warning', 'symlink-directory', 'is a symbolic link to a directory; those are not followed (a link cycle would never end), so no card file in it is read')
        } else if (isSpec) {
          if (target.isFile()) files.push(full)
          else problem(full, 'error', 'file-not-regular', 'links to something that is not a regular file (a device, FIFO or socket); card files must be regular files')
        }
      } else if (isSpec) {
        if (entry.isFile()) files.push(full)
        else problem(full, 'error', 'file-not-regular', 'is not a regular file (a device, FIFO or socket); card files must be regular files')
      }
    }
  }
  return files.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
}

function relativeTo(dir: string): (absolute: string) => string {
  const base = path.resolve(dir)
  return (absolute) => path.relative(base, absolute).split(path.sep).join('/')
}

export function sortDiagnostics(diagnostics: Diagnostic[]): Diagnostic[] {
  const key = (d: Diagnostic) => d.source?.file ?? ''
  return [...diagnostics].sort(
    (a, b) =>
      (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0) ||
      (a.source?.line ?? 0) - (b.source?.line ?? 0) ||
      (a.source?.column ?? 0) - (b.source?.column ?? 0),
  )
}
