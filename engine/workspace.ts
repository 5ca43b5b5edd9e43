import path from 'node:path'
import type {Family} from './model/schema-semantics.js'
import type {Diagnostic} from './model/diagnostic.js'
import {loadProject, type LoadOptions, type Project, type SpecDocument} from './spec/load-project.js'
import {FileStateStore} from './state/file-store.js'
import {PgStateStore} from './state/pg-store.js'
import type {StateStore} from './state/store.js'
import {WechatPayGateway} from './providers/gateway.js'
import {loadWires} from './providers/wires.js'
import {resolveAggregatorCredentials, resolveCredentials, type ProviderCredentials} from './providers/wechatpay/credentials.js'
import {packageVersion} from './providers/wechatpay/client.js'
import type {KindWire} from './plan/compute-plan.js'
import {formatAddress} from './model/address.js'
import type {DesiredCard} from './plan/compute-plan.js'
import {readMetadata} from './plan/state-record.js'

/** The folder, under the project directory, where cardform keeps its own files (state, embedded emulator data). */
export const WORK_DIR = '.cardform'

/** Requests/s to the embedded emulator when cardform.yaml sets no rate_limit. */
const EMBEDDED_RATE_LIMIT = 10_000

/** A problem with the project setup (config, credentials, backend): the user's to fix, said with where. */
export class WorkspaceError extends Error {
  override name = 'WorkspaceError'
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message)
  }
}

export interface Workspace {
  dir: string
  project: Project
  desired: DesiredCard[]
  store: StateStore
  wires: ReadonlyMap<string, KindWire>
  /** Opens the connection to the API (and starts the embedded emulator) on first use. */
  gateway(): Promise<WechatPayGateway>
  close(): Promise<void>
}

export interface OpenOptions {
  env?: NodeJS.ProcessEnv
  /** --var-file / --var, or the values a saved plan was made with (see LoadOptions). */
  variables?: LoadOptions['variables']
  resolvedVariables?: LoadOptions['resolvedVariables']
}

/**
 * Load a project and set up what plan and apply need. Spec problems come back as diagnostics (the caller prints
 * them and stops); setup problems throw WorkspaceError.
 */
export async function openWorkspace(dir: string, options: OpenOptions = {}): Promise<{workspace?: Workspace; diagnostics: Diagnostic[]}> {
  const project = await loadProject(dir, {
    ...(options.env ? {env: options.env} : {}),
    ...(options.variables ? {variables: options.variables} : {}),
    ...(options.resolvedVariables ? {resolvedVariables: options.resolvedVariables} : {}),
  })
  if (project.diagnostics.some((d) => d.severity === 'error') || !project.config) {
    return {diagnostics: project.diagnostics}
  }
  const config = project.config as {provider?: ProviderCredentials & {endpoint?: string}; backend?: BackendConfig}
  const store = createStore(dir, config.backend)
  const wires = loadWires()
  const families = new Map<string, Family>([...wires].map(([kind, wire]) => [kind, wire.family]))
  let gateway: WechatPayGateway | undefined
  let opening: Promise<WechatPayGateway> | undefined
  let stopEmulator: (() => Promise<void>) | undefined

  const workspace: Workspace = {
    dir,
    project,
    desired: project.documents.map(toDesired),
    store,
    wires,
    gateway() {
      // One gateway per workspace, however many workers ask for it at once.
      opening ??= openGateway()
      return opening
    },
    async close() {
      await gateway?.close()
      await stopEmulator?.()
      await store.close()
    },
  }
  return {workspace, diagnostics: project.diagnostics}

  async function openGateway(): Promise<WechatPayGateway> {
    const provider = config.provider
    if (!provider?.endpoint) throw new WorkspaceError('cardform.yaml: provider.endpoint is required (a URL, or "embedded")', 'config-provider')
    let credentials: ProviderCredentials
    let baseDir = dir
    if (provider.endpoint === 'embedded') {
      const {startEmulator} = await import('../emulator/index.js')
      const emulator = await startEmulator({dataDir: path.resolve(dir, WORK_DIR, 'emulator')})
      stopEmulator = () => emulator.close()
      // The emulator is on this machine and enforces no rate limit unless told to: do not pace calls to it at
      // the real API's 5/s unless the project asks for a limit.
      credentials = {credentials_file: emulator.credentialsFile, rate_limit: provider.rate_limit ?? EMBEDDED_RATE_LIMIT}
      baseDir = path.dirname(emulator.credentialsFile)
    } else {
      credentials = provider
    }
    try {
      const wechatpay = resolveCredentials(credentials, {baseDir, label: 'provider'})
      const needsAggregator = project.documents.some((d) => families.get(d.kind) === 'aggregator')
      const aggregator = needsAggregator || provider.aggregator || provider.endpoint === 'embedded'
        ? resolveAggregatorCredentials(credentials, {baseDir, label: 'provider'})
        : undefined
      gateway = new WechatPayGateway({wechatpay, ...(aggregator ? {aggregator} : {}), families})
    } catch (e) {
      await stopEmulator?.()
      throw new WorkspaceError(`cardform.yaml: ${(e as Error).message}`, 'config-credentials')
    }
    return gateway
  }
}

function toDesired(d: SpecDocument): DesiredCard {
  return {
    address: formatAddress(d.kind, d.name),
    kind: d.kind,
    name: d.name,
    spec: d.spec,
    metadata: readMetadata(d.metadata),
    ...(d.images ? {images: d.images} : {}),
    source: () => d.positionOf([]),
    positionOf: (p) => d.positionOf(['spec', ...p]),
    documentPositionOf: (p) => d.positionOf(p),
  }
}

/** cardform.yaml's `backend` block, schema-checked and with ${env:} already interpolated. */
interface BackendConfig {
  type: string
  path?: string
  connection?: string
  schema_name?: string
  workspace?: string
}

function createStore(dir: string, backend: BackendConfig | undefined): StateStore {
  const type = backend?.type ?? 'local'
  if (type === 'local') {
    const rel = backend?.path ?? path.join(WORK_DIR, 'state.json')
    return new FileStateStore(path.resolve(dir, rel), packageVersion(), rel)
  }
  if (type === 'pg') {
    if (!backend?.connection) throw new WorkspaceError('cardform.yaml: backend.connection is required with type: pg', 'config-backend')
    // The location (for messages) is pg:<schema>/<workspace>: the URL, which may carry a password, is never shown.
    return new PgStateStore({
      connection: backend.connection,
      schema: backend.schema_name ?? 'cardform',
      workspace: backend.workspace ?? 'default',
      version: packageVersion(),
    })
  }
  throw new WorkspaceError(
    `cardform.yaml: backend.type "${type}" is not available in this version of cardform; use "local" or "pg"`,
    'backend-unsupported',
  )
}
