import {readFileSync} from 'node:fs'
import {promises as fs} from 'node:fs'
import path from 'node:path'
import type {ValidateFunction} from 'ajv'
import {createAjv} from '../spec/ajv.js'
import {schemasDir} from '../paths.js'
import type {Address} from '../model/address.js'
import type {Diagnostic} from '../model/diagnostic.js'
import {PLAN_FORMAT_VERSION, type Plan} from '../model/plan.js'
import type {CardMetadata} from './state-record.js'

/**
 * A saved plan (`plan --out FILE`): the plan and the desired specs it was computed from, so `apply FILE` applies
 * exactly what the reviewer saw, even if the spec files changed since.
 */
export interface SavedPlan {
  file_format: 'cardform-saved-plan'
  plan: Plan
  desired: Array<{address: Address; kind: string; name: string; spec: Record<string, unknown>; metadata?: CardMetadata}>
  /**
   * The `${var.NAME}` values the plan was made with (--var-file, --var). `apply FILE` reads cardform.yaml again (backend,
   * provider), so it reads it with these, as Terraform's plan file carries its variables; absent when none were given.
   */
  variables?: Record<string, string | number | boolean>
}

/** Only the variables of a saved plan, read before the project is opened (it needs them). */
export async function readSavedPlanVariables(file: string): Promise<Record<string, string | number | boolean> | undefined> {
  let doc: unknown
  try {
    doc = JSON.parse(await fs.readFile(file, 'utf8'))
  } catch {
    return undefined // readSavedPlan reports it, with the workspace open
  }
  const vars = (doc as {variables?: unknown} | null)?.variables
  if (vars === null || typeof vars !== 'object' || Array.isArray(vars)) return undefined
  const out: Record<string, string | number | boolean> = {}
  for (const [k, v] of Object.entries(vars)) if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = v
  return out
}

export class SavedPlanError extends Error {
  override name = 'SavedPlanError'
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message)
  }
}

let planValidator: ValidateFunction | undefined

export function planValidatorFn(): ValidateFunction {
  if (!planValidator) {
    planValidator = createAjv().compile(JSON.parse(readFileSync(path.join(schemasDir, 'plan.schema.json'), 'utf8')) as object)
  }
  return planValidator
}

export async function writeSavedPlan(file: string, saved: SavedPlan): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`
  try {
    await fs.writeFile(tmp, JSON.stringify(saved, null, 2) + '\n', {mode: 0o600})
    await fs.rename(tmp, file)
  } catch (e) {
    await fs.rm(tmp, {force: true}) // leave no half-written temp file beside the plan
    throw e
  }
}

export async function readSavedPlan(file: string): Promise<SavedPlan> {
  let doc: unknown
  try {
    doc = JSON.parse(await fs.readFile(file, 'utf8'))
  } catch (e) {
    throw new SavedPlanError(`cannot read saved plan ${file}: ${(e as Error).message}`, 'plan-file-invalid')
  }
  const d = doc as Partial<SavedPlan>
  if (d?.file_format !== 'cardform-saved-plan' || !d.plan || !Array.isArray(d.desired)) {
    throw new SavedPlanError(`${file} is not a cardform saved plan (write one with \`cardform plan --out ${file}\`)`, 'plan-file-invalid')
  }
  const major = String(d.plan.format_version ?? '').split('.')[0]
  if (major !== PLAN_FORMAT_VERSION.split('.')[0]) {
    throw new SavedPlanError(`${file} has plan format ${d.plan.format_version}; this cardform reads ${PLAN_FORMAT_VERSION}`, 'plan-file-version')
  }
  const v = planValidatorFn()
  if (!v(d.plan)) {
    throw new SavedPlanError(`${file} is not a valid plan: ${v.errors?.slice(0, 3).map((e) => `${e.instancePath} ${e.message}`).join('; ')}`, 'plan-file-invalid')
  }
  return d as SavedPlan
}

/** Why a saved plan no longer applies, as diagnostics with code `stale-plan`; empty when it still does. */
export function staleReasons(
  plan: Plan,
  state: {lineage: string; serial: number} | null,
  liveFingerprints: ReadonlyMap<Address, string | 'gone'>,
): Diagnostic[] {
  const out: Diagnostic[] = []
  const stale = (message: string, address?: string) =>
    out.push({severity: 'error', code: 'stale-plan', message, ...(address ? {address} : {})})
  if (plan.prior_state === null && state !== null) {
    stale(`the plan was made before any state existed, but state now exists (lineage ${state.lineage}, serial ${state.serial}): run plan again`)
  } else if (plan.prior_state !== null && state === null) {
    stale(`the plan was made from state serial ${plan.prior_state.serial}, but there is no state now: run plan again`)
  } else if (plan.prior_state && state) {
    if (plan.prior_state.lineage !== state.lineage) {
      stale(`the plan belongs to state lineage ${plan.prior_state.lineage}, but the state is lineage ${state.lineage}`)
    } else if (plan.prior_state.serial !== state.serial) {
      stale(`the state moved since the plan was made (serial ${plan.prior_state.serial} → ${state.serial}): another apply ran; run plan again`)
    }
  }
  for (const c of plan.changes) {
    if (!c.live_fingerprint) continue
    const now = liveFingerprints.get(c.address)
    if (now === undefined) continue
    if (now === 'gone') stale(`${c.address}: card ${c.remote_id} was deleted since the plan was made`, c.address)
    else if (now !== c.live_fingerprint) stale(`${c.address}: card ${c.remote_id} changed since the plan was made (it was modified outside cardform)`, c.address)
  }
  // A refresh-only plan records the live values it showed: a card that moved since would record values nobody saw.
  if (plan.mode === 'refresh-only') {
    for (const d of plan.drift) {
      const now = liveFingerprints.get(d.address)
      if (now === undefined) continue
      if (d.type === 'deleted' && now !== 'gone') stale(`${d.address}: card ${d.remote_id} exists again since the plan was made`, d.address)
      else if (d.type === 'modified' && now === 'gone') stale(`${d.address}: card ${d.remote_id} was deleted since the plan was made`, d.address)
      else if (d.type === 'modified' && now !== d.live_fingerprint) stale(`${d.address}: card ${d.remote_id} changed again since the plan was made`, d.address)
    }
  }
  return out
}
