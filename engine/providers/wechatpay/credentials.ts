import {createPrivateKey, type KeyObject} from 'node:crypto'
import {readFileSync} from 'node:fs'
import path from 'node:path'
import type {WechatPayClientOptions} from './client.js'
import {CredentialsError} from './errors.js'
import {loadPlatformKey, loadPublicKey, normalizeSerial, type VerificationKeys} from './response-verification.js'

/**
 * Turn provider credentials (the `provider:` block of cardform.yaml, or a credentials.json such as the emulator
 * writes) into client options. Key files given by relative path are resolved against the folder of the file that
 * named them. Anything missing is reported at once, by its full key name and the endpoint it was needed for.
 */

/** The keys of a credentials file / provider block (snake_case, as written on disk). */
export interface ProviderCredentials {
  endpoint?: string
  /** A JSON file with the keys below; keys given inline next to it win over the file's. */
  credentials_file?: string
  mchid?: string
  merchant_serial?: string
  merchant_private_key_file?: string
  wechatpay_public_key_id?: string
  wechatpay_public_key_file?: string
  platform_certificate_serial?: string
  platform_certificate_file?: string
  /** Requests per second per merchant, for every family. */
  rate_limit?: number
  timeout_ms?: number
  /** Largest response body read (transport.maxResponseBytes). */
  max_response_bytes?: number
  aggregator_token?: string
  aggregator?: {endpoint?: string; token?: string}
}

export type KeyMode = 'public-key' | 'platform-certificate'

export interface ResolveContext {
  /** Folder that relative file names are resolved against. */
  baseDir: string
  /** Prefix of key names in messages: `provider` gives `provider.mchid`. */
  label?: string
  /** Which response key to use when both are configured (the emulator's file has both); public-key by default. */
  keyMode?: KeyMode
}

const STRING_KEYS = [
  'endpoint',
  'credentials_file',
  'mchid',
  'merchant_serial',
  'merchant_private_key_file',
  'wechatpay_public_key_id',
  'wechatpay_public_key_file',
  'platform_certificate_serial',
  'platform_certificate_file',
  'aggregator_token',
] as const

/** A value with the folder its relative paths are resolved against. */
interface Sourced {
  value: string
  baseDir: string
}

type Merged = Partial<Record<(typeof STRING_KEYS)[number], Sourced>> & {
  rate_limit?: number
  timeout_ms?: number
  max_response_bytes?: number
  aggregator?: {endpoint?: Sourced; token?: Sourced}
}

/** Read a credentials JSON file (as the emulator writes) and resolve it. */
export function loadCredentialsFile(file: string, context: Omit<ResolveContext, 'baseDir'> = {}): WechatPayClientOptions {
  return resolveCredentials({credentials_file: path.resolve(file)}, {...context, baseDir: path.dirname(path.resolve(file))})
}

export function resolveCredentials(input: ProviderCredentials, context: ResolveContext): WechatPayClientOptions {
  const label = context.label ?? 'provider'
  const merged = mergeWithFile(input, context.baseDir, label)
  const endpoint = merged.endpoint?.value
  if (endpoint === undefined || endpoint.trim() === '') throw new CredentialsError(`${label}.endpoint is required`)
  if (!/^https?:\/\//.test(endpoint)) {
    throw new CredentialsError(`${label}.endpoint must be an http(s) URL, got ${JSON.stringify(endpoint)}`)
  }
  const where = `for endpoint ${endpoint}`

  const missing: string[] = []
  for (const key of ['mchid', 'merchant_serial', 'merchant_private_key_file'] as const) {
    if (merged[key] === undefined) missing.push(`${label}.${key}`)
  }
  const mode = chooseKeyMode(merged, context.keyMode, label, missing)
  if (missing.length > 0) {
    throw new CredentialsError(`${listWords(missing)} ${missing.length > 1 ? 'are' : 'is'} required ${where}`)
  }
  const mchid = merged.mchid!.value
  if (!/^\d+$/.test(mchid)) throw new CredentialsError(`${label}.mchid must be digits, got ${JSON.stringify(mchid)} ${where}`)

  const privateKey = readPrivateKey(merged.merchant_private_key_file!, `${label}.merchant_private_key_file`)
  let verification: VerificationKeys
  if (mode === 'public-key') {
    const keyLabel = `${label}.wechatpay_public_key_file`
    const id = merged.wechatpay_public_key_id!.value
    if (!/^PUB_KEY_ID_\d+$/.test(id)) {
      throw new CredentialsError(`${label}.wechatpay_public_key_id must look like PUB_KEY_ID_ followed by digits, got ${JSON.stringify(id)}`)
    }
    const pem = readText(merged.wechatpay_public_key_file!, keyLabel)
    verification = {mode, publicKeyId: id, publicKey: wrap(() => loadPublicKey(pem, describe(merged.wechatpay_public_key_file!, keyLabel)))}
  } else {
    const certLabel = `${label}.platform_certificate_file`
    const pem = readText(merged.platform_certificate_file!, certLabel)
    const platform = wrap(() =>
      loadPlatformKey(pem, merged.platform_certificate_serial?.value, describe(merged.platform_certificate_file!, certLabel)),
    )
    verification = {mode, certificates: new Map([[normalizeSerial(platform.serial), platform]])}
  }

  const options: WechatPayClientOptions = {
    endpoint,
    mchid,
    merchantSerial: merged.merchant_serial!.value,
    merchantPrivateKey: privateKey,
    verification,
  }
  if (merged.rate_limit !== undefined) {
    if (!(typeof merged.rate_limit === 'number' && merged.rate_limit > 0)) {
      throw new CredentialsError(`${label}.rate_limit must be a positive number, got ${JSON.stringify(merged.rate_limit)}`)
    }
    options.rateLimit = {qps: merged.rate_limit}
  }
  if (merged.timeout_ms !== undefined) {
    if (!(Number.isInteger(merged.timeout_ms) && merged.timeout_ms > 0)) {
      throw new CredentialsError(`${label}.timeout_ms must be a positive integer, got ${JSON.stringify(merged.timeout_ms)}`)
    }
    const t = merged.timeout_ms
    // "Timeout of one HTTP request": each phase, and the whole attempt (a body trickled byte by byte included).
    options.transport = {connectTimeoutMs: t, headersTimeoutMs: t, bodyTimeoutMs: t, responseTimeoutMs: t}
  }
  if (merged.max_response_bytes !== undefined) {
    if (!(Number.isInteger(merged.max_response_bytes) && merged.max_response_bytes > 0)) {
      throw new CredentialsError(`${label}.max_response_bytes must be a positive integer, got ${JSON.stringify(merged.max_response_bytes)}`)
    }
    options.transport = {...options.transport, maxResponseBytes: merged.max_response_bytes}
  }
  return options
}

export interface AggregatorCredentials {
  endpoint: string
  token: string
}

/**
 * The aggregator's endpoint and bearer token: `aggregator.{endpoint,token}`, else `aggregator_token` with the main
 * endpoint (the emulator serves both on one port).
 */
export function resolveAggregatorCredentials(input: ProviderCredentials, context: ResolveContext): AggregatorCredentials {
  const label = context.label ?? 'provider'
  const merged = mergeWithFile(input, context.baseDir, label)
  const endpoint = merged.aggregator?.endpoint?.value ?? merged.endpoint?.value
  const token = merged.aggregator?.token?.value ?? merged.aggregator_token?.value
  if (endpoint === undefined) throw new CredentialsError(`${label}.aggregator.endpoint (or ${label}.endpoint) is required`)
  if (token === undefined) {
    throw new CredentialsError(`${label}.aggregator.token (or ${label}.aggregator_token) is required for endpoint ${endpoint}`)
  }
  return {endpoint, token}
}

function mergeWithFile(input: ProviderCredentials, baseDir: string, label: string): Merged {
  const merged: Merged = {}
  const fileName = stringOrUndefined(input as Record<string, unknown>, 'credentials_file', `${label}.`)
  if (fileName !== undefined) {
    const file = path.resolve(baseDir, fileName)
    let parsed: unknown
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'))
    } catch (e) {
      throw new CredentialsError(`cannot read ${label}.credentials_file ${JSON.stringify(fileName)}: ${shortError(e)}`)
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new CredentialsError(`${label}.credentials_file ${JSON.stringify(fileName)} must hold a JSON object`)
    }
    addLayer(merged, parsed as Record<string, unknown>, path.dirname(file), `${fileName}: `)
  }
  addLayer(merged, input as Record<string, unknown>, baseDir, `${label}.`)
  return merged
}

function addLayer(merged: Merged, layer: Record<string, unknown>, baseDir: string, prefix: string): void {
  for (const key of STRING_KEYS) {
    if (key === 'credentials_file') continue
    const value = stringOrUndefined(layer, key, prefix)
    if (value !== undefined) merged[key] = {value, baseDir}
  }
  for (const key of ['rate_limit', 'timeout_ms', 'max_response_bytes'] as const) {
    const value = layer[key]
    if (value === undefined || value === null) continue
    if (typeof value !== 'number') throw new CredentialsError(`${prefix}${key} must be a number, got ${JSON.stringify(value)}`)
    merged[key] = value
  }
  const agg = layer.aggregator
  if (agg !== undefined && agg !== null) {
    if (typeof agg !== 'object' || Array.isArray(agg)) throw new CredentialsError(`${prefix}aggregator must be an object`)
    const a = agg as Record<string, unknown>
    const endpoint = stringOrUndefined(a, 'endpoint', `${prefix}aggregator.`)
    const token = stringOrUndefined(a, 'token', `${prefix}aggregator.`)
    merged.aggregator = {...merged.aggregator}
    if (endpoint !== undefined) merged.aggregator.endpoint = {value: endpoint, baseDir}
    if (token !== undefined) merged.aggregator.token = {value: token, baseDir}
  }
}

function stringOrUndefined(layer: Record<string, unknown>, key: string, prefix: string): string | undefined {
  const value = layer[key]
  if (value === undefined || value === null || value === '') return undefined
  if (typeof value !== 'string') {
    throw new CredentialsError(`${prefix}${key} must be a string`)
  }
  return value
}

function chooseKeyMode(merged: Merged, wanted: KeyMode | undefined, label: string, missing: string[]): KeyMode {
  const hasPublic = merged.wechatpay_public_key_id !== undefined || merged.wechatpay_public_key_file !== undefined
  const hasPlatform = merged.platform_certificate_file !== undefined || merged.platform_certificate_serial !== undefined
  const mode: KeyMode | undefined = wanted ?? (hasPublic ? 'public-key' : hasPlatform ? 'platform-certificate' : undefined)
  if (mode === undefined) {
    missing.push(
      `${label}.wechatpay_public_key_id with ${label}.wechatpay_public_key_file (public-key mode) or ` +
        `${label}.platform_certificate_file (platform-certificate mode)`,
    )
    return 'public-key'
  }
  if (mode === 'public-key') {
    if (merged.wechatpay_public_key_id === undefined) missing.push(`${label}.wechatpay_public_key_id`)
    if (merged.wechatpay_public_key_file === undefined) missing.push(`${label}.wechatpay_public_key_file`)
  } else if (merged.platform_certificate_file === undefined) {
    missing.push(`${label}.platform_certificate_file`)
  }
  return mode
}

function describe(file: Sourced, key: string): string {
  return `${key} ${JSON.stringify(file.value)}`
}

function readText(file: Sourced, key: string): string {
  const resolved = path.resolve(file.baseDir, file.value)
  try {
    return readFileSync(resolved, 'utf8')
  } catch (e) {
    throw new CredentialsError(`cannot read ${describe(file, key)}: ${shortError(e)}`)
  }
}

/** The merchant private key; an unreadable or non-private key is named by its key, never shown. */
function readPrivateKey(file: Sourced, key: string): KeyObject {
  const pem = readText(file, key)
  try {
    const k = createPrivateKey(pem)
    if (k.asymmetricKeyType !== 'rsa') throw new Error(`expected an RSA key, got ${k.asymmetricKeyType ?? 'unknown'}`)
    return k
  } catch (e) {
    // The crypto error names the failure (e.g. unsupported format) and never the key's content.
    throw new CredentialsError(`${describe(file, key)} is not a PEM RSA private key (${shortError(e)})`)
  }
}

function wrap<T>(load: () => T): T {
  try {
    return load()
  } catch (e) {
    throw e instanceof CredentialsError ? e : new CredentialsError((e as Error).message)
  }
}

function shortError(e: unknown): string {
  const err = e as NodeJS.ErrnoException
  if (typeof err?.code === 'string' && err.code.startsWith('E')) return err.code === 'ENOENT' ? 'no such file' : err.code
  return (err?.message ?? String(e)).split('\n')[0]!
}

function listWords(items: string[]): string {
  if (items.length <= 1) return items.join('')
  return `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`
}
