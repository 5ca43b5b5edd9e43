import {readdirSync, readFileSync, statSync, type Dirent} from 'node:fs'
import path from 'node:path'
import {formatAddress} from '../model/address.js'
import type {Diagnostic, SourcePosition} from '../model/diagnostic.js'
import {locate} from './finding.js'
import {LOADER_LIMITS, type LoaderLimits} from './limits.js'
import {parseYamlDocuments, type YamlDocument} from './parse-yaml.js'
import {prepareValue, type Environment} from './prepare-values.js'
import {readSchemaSet, type SchemaSet} from './schema-set.js'
import {positionIn, type FieldPath, type PositionTarget} from './source-map.js'
import {createSpecValidator, type SpecValidator} from './spec-validator.js'

export const CONFIG_FILE = 'cardform.yaml'

/** One card definition from the project, valid against its kind's schema. */
export interface SpecDocument {
  /** `Kind.name` (engine/model/address.ts), unique in the project. */
  address: string
  kind: string
  name: string
  /** The document's `spec` mapping as plain JS, after `${env:NAME}` interpolation. */
  spec: Record<string, unknown>
  /** File path relative to the project directory, with `/` separators. */
  file: string
  /** 0-based index of the document within its file. */
  docIndex: number
  /**
   * Where a field is written: `path` is from the document root (`['spec', 'brand', 'display_name']`). Works for any
   * path; one that is not written falls back to its nearest written ancestor.
   */
  positionOf(path: FieldPath, target?: PositionTarget): SourcePosition
}

/** The project configuration (cardform.yaml) as plain JS after interpolation; its shape is config.schema.json's. */
export type ProjectConfig = Record<string, unknown>

export interface Project {
  /** Undefined when cardform.yaml is missing or invalid. */
  config: ProjectConfig | undefined
  /** Documents without errors, in file order then document order. Ones with errors are left out. */
  documents: SpecDocument[]
  /** Spec files read (relative to the project directory), sorted. */
  files: string[]
  /** Everything found, sorted by file, line and column. */
  diagnostics: Diagnostic[]
}

export interface LoadOptions {
  /** Source of `${env:NAME}`; defaults to the process environment. */
  env?: Environment
  /** Schemas to validate against; defaults to the package's schemas/. */
  schemas?: SchemaSet
  limits?: Partial<LoaderLimits>
}

let defaultValidator: SpecValidator | undefined
const validators = new WeakMap<SchemaSet, SpecValidator>()

/** One compiled validator per schema set, for the life of the process. */
function validatorFor(schemas: SchemaSet | undefined): SpecValidator {
  if (!schemas) return (defaultValidator ??= createSpecValidator(readSchemaSet()))
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
 * back as diagnostics. Only our own faults (unreadable schemas, say) throw.
 */
export async function loadProject(dir: string, options: LoadOptions = {}): Promise<Project> {
  return withPlainEnvironment(() => loadProjectNow(dir, options))
}

/**
 * yaml 2.x reads `process.env.LOG_TOKENS` once per token (parse/parser.js `next`), and Node's `process.env` is an
 * accessor into the C environment costing about a microsecond a read: measured, a fifth to a quarter of the loader's
 * time on a thousand cards. While the synchronous load runs, `process.env` is swapped for a plain copy and put back
 * straight after; no other code can run in between, and the copy holds the same values.
 */
function withPlainEnvironment<T>(work: () => T): T {
  const original = process.env
  process.env = {...original}
  try {
    return work()
  } finally {
    process.env = original
  }
}

function loadProjectNow(dir: string, options: LoadOptions): Project {
  const limits: LoaderLimits = {...LOADER_LIMITS, ...options.limits}
  const env = options.env ?? process.env
  const validator = validatorFor(options.schemas)
  const diagnostics: Diagnostic[] = []

  const config = loadConfig(dir, env, limits, validator, diagnostics)
  if (!config) return {config: undefined, documents: [], files: [], diagnostics: sortDiagnostics(diagnostics)}

  const cardsDir = path.resolve(dir, typeof config.cards === 'string' ? config.cards : 'cards')
  const documents: SpecDocument[] = []
  const firstByAddress = new Map<string, SpecDocument>()
  const files: string[] = []
  for (const absolute of listSpecFiles(cardsDir, path.resolve(dir, CONFIG_FILE), diagnostics, relativeTo(dir))) {
    const file = relativeTo(dir)(absolute)
    files.push(file)
    const text = readBounded(absolute, file, limits, diagnostics)
    if (text === undefined) continue
    const parsed = parseYamlDocuments(text, file, limits)
    diagnostics.push(...parsed.diagnostics)
    for (const yamlDoc of parsed.documents) {
      const document = checkDocument(yamlDoc, file, env, limits, validator, diagnostics)
      if (!document) continue
      const first = firstByAddress.get(document.address)
      if (first) {
        const here = document.positionOf(['metadata', 'name'])
        const there = first.positionOf(['metadata', 'name'])
        diagnostics.push({
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
      firstByAddress.set(document.address, document)
      documents.push(document)
    }
  }
  return {config, documents, files, diagnostics: sortDiagnostics(diagnostics)}
}

function checkDocument(
  yamlDoc: YamlDocument,
  file: string,
  env: Environment,
  limits: LoaderLimits,
  validator: SpecValidator,
  diagnostics: Diagnostic[],
): SpecDocument | undefined {
  const prepared = prepareValue(yamlDoc.value, env, limits.maxDepth)
  const value = prepared.value
  const doc = value as {kind?: unknown; metadata?: {name?: unknown}; spec?: unknown} | null
  const kind = typeof doc?.kind === 'string' ? doc.kind : undefined
  const name = typeof doc?.metadata?.name === 'string' ? doc.metadata.name : undefined
  const address = kind !== undefined && name !== undefined ? formatAddress(kind, name) : undefined
  const tooDeep = prepared.findings.some((f) => f.code === 'nesting-limit')
  // A value left uninterpolated would also fail its schema; the env diagnostic alone says what to fix.
  const envPaths = new Set(prepared.findings.filter((f) => f.code.startsWith('env-')).map((f) => f.path.join('\u0000')))
  const schemaFindings = tooDeep ? [] : validator.checkDocument(value).filter((f) => !envPaths.has(f.path.join('\u0000')))
  const findings = [...prepared.findings, ...schemaFindings]
  const found = locate(findings, yamlDoc.positions, file, address)
  diagnostics.push(...found)
  if (found.some((d) => d.severity === 'error') || address === undefined) return undefined
  const positions = yamlDoc.positions
  return {
    address,
    kind: kind!,
    name: name!,
    spec: (doc!.spec ?? {}) as Record<string, unknown>,
    file,
    docIndex: yamlDoc.docIndex,
    positionOf: (fieldPath, target) => positionIn(positions, file, fieldPath, target),
  }
}

function loadConfig(
  dir: string,
  env: Environment,
  limits: LoaderLimits,
  validator: SpecValidator,
  diagnostics: Diagnostic[],
): ProjectConfig | undefined {
  const absolute = path.resolve(dir, CONFIG_FILE)
  let isFile = false
  try {
    isFile = statSync(absolute).isFile()
  } catch {
    isFile = false
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
  diagnostics.push(...parsed.diagnostics)
  if (parsed.diagnostics.length > 0) return undefined
  const yamlDoc = parsed.documents[0]
  const prepared = prepareValue(yamlDoc?.value ?? {}, env, limits.maxDepth)
  const findings = [...prepared.findings, ...validator.checkConfig(prepared.value)]
  if (findings.length > 0) {
    const positions = yamlDoc?.positions ?? {lineStarts: [0], nodes: new Map(), documentOffset: 0}
    diagnostics.push(...locate(findings, positions, CONFIG_FILE, undefined))
    return undefined
  }
  return prepared.value as ProjectConfig
}

/** Reads a file unless stat says it is over the size cap (so a huge file is never loaded into memory). */
function readBounded(absolute: string, file: string, limits: LoaderLimits, diagnostics: Diagnostic[]): string | undefined {
  try {
    const size = statSync(absolute).size
    if (size > limits.maxFileBytes) {
      diagnostics.push({
        severity: 'error',
        code: 'file-too-large',
        message: `${file} is ${size} bytes; the limit is ${limits.maxFileBytes} bytes (a card file is a few kilobytes)`,
        source: {file, line: 1, column: 1},
      })
      return undefined
    }
    return readFileSync(absolute, 'utf8')
  } catch (error) {
    diagnostics.push({
      severity: 'error',
      code: 'file-unreadable',
      message: `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      source: {file, line: 1, column: 1},
    })
    return undefined
  }
}

/**
 * Every `.yaml`/`.yml` under `root`, sorted by path so results do not depend on the file system's order. Hidden
 * entries (`.git`, `.cardform`) and node_modules are skipped; symbolic links are followed to files only, so a link
 * cycle cannot make the walk endless.
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
  const pending = [root]
  while (pending.length > 0) {
    const current = pending.pop()!
    let entries: Dirent[]
    try {
      entries = readdirSync(current, {withFileTypes: true})
    } catch {
      continue
    }
    for (const entry of entries) {
      if (entry.name.startsWith('.') || entry.name === 'node_modules') continue
      const full = path.join(current, entry.name)
      if (entry.isDirectory()) pending.push(full)
      else if (/\.ya?ml$/.test(entry.name) && full !== configFile) {
        if (entry.isFile() || (entry.isSymbolicLink() && isFileSafe(full))) files.push(full)
      }
    }
  }
  return files.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
}

function isFileSafe(file: string): boolean {
  try {
    return statSync(file).isFile()
  } catch {
    return false
  }
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
