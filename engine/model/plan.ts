import type {Address} from './address.js'
import type {Diagnostic, SourcePosition} from './diagnostic.js'

/**
 * A plan is plain, serializable data: `plan --json` prints it, `plan --out` saves it (with the desired specs it was
 * computed from), and `apply FILE` executes exactly its steps. Described by schemas/plan.schema.json.
 *
 * Compatibility (as Terraform's JSON plan): a minor bump of format_version only adds properties; a reader rejects a
 * major version it does not know.
 */
export const PLAN_FORMAT_VERSION = '1.0'

/** The closed set of actions. Every switch over it ends in assertNever. */
export type Action = 'create' | 'update' | 'replace' | 'delete' | 'invalidate' | 'no-op'

/** Why an action was chosen. */
export type Reason =
  | 'new-in-config' // in the specs, not in state
  | 'create-interrupted' // state journals a create whose outcome is unknown: resume it with the same out_request_no
  | 'changed-in-config' // the spec differs from what cardform applied last time
  | 'drifted' // the live card differs from what cardform applied last time, the spec did not change
  | 'removed-from-config' // in state, no longer in the specs
  | 'deleted-outside' // in state, but the live card is gone (deleted or invalidated outside cardform)
  | 'in-sync'

/** Which side of the three-way diff a field change comes from. */
export type ChangeSource = 'config' | 'drift'

export interface FieldChange {
  /** Dotted path inside spec, list items by key where the schema names one: `user_information_form.custom_field_list[name=喜欢的运动]`. */
  path: string
  /** The live value (or, for fields GET cannot return, the last-applied one); absent when there was none. */
  before?: unknown
  /** The desired value; absent when the field is removed. */
  after?: unknown
  source: ChangeSource
  /** The change cannot be made in place: the card must be replaced. */
  forces_replacement?: true
  /** Once applied, the API never allows going back (one-way display switches). */
  irreversible?: true
  /** Render as a line diff. */
  long_text?: true
  /** The field is not readable by GET: compared with state, not live. */
  write_only?: true
}

/**
 * One remote call. A change is an ordered list of steps; apply checkpoints state after each. patch and rights act on
 * the card the change is about (the new one, after a create step); delete and invalidate name the card they remove
 * (for a replacement, the old one); without remote_id they remove the change's own card.
 */
export type Step =
  | {op: 'create'; body: Record<string, unknown>; out_request_no: string; generation: number}
  | {op: 'patch'; body: Record<string, unknown>}
  | {op: 'rights'; body: Record<string, unknown>}
  | {op: 'delete'; remote_id?: string}
  | {op: 'invalidate'; remote_id?: string; body: Record<string, unknown>}

export interface ResourceChange {
  address: Address
  kind: string
  name: string
  action: Action
  reason: Reason
  /** card_id of the existing card, when there is one. */
  remote_id?: string
  /** Where the card's spec is declared (absent for removed cards). */
  source?: SourcePosition
  field_changes: FieldChange[]
  /** Number of managed fields that do not change (elided in the human output). */
  unchanged_count: number
  replace_paths: string[]
  irreversible_paths: string[]
  /** Replacement or deletion: the card is taken away from every member who holds it. */
  destructive: boolean
  steps: Step[]
  /** Fingerprint of the live card the plan was computed against; apply refuses a saved plan when it moved. */
  live_fingerprint?: string
}

/** A difference between the live card and what cardform applied last time, shown in its own section. */
export interface Drift {
  address: Address
  kind: string
  name: string
  /** `deleted` when the card is gone; `modified` when fields changed outside cardform. */
  type: 'modified' | 'deleted'
  remote_id?: string
  field_changes: FieldChange[]
}

export interface PlanSummary {
  create: number
  update: number
  replace: number
  delete: number
  invalidate: number
  no_op: number
}

export interface Plan {
  format_version: string
  cardform_version: string
  created_at: string
  /** The state the plan was computed from; null when there was none yet. */
  prior_state: {lineage: string; serial: number} | null
  /** The lineage of the state this plan applies to: the prior state's, or a new one minted for a first apply. */
  lineage: string
  /** False when live cards were not read (`--refresh=false`). */
  refreshed: boolean
  changes: ResourceChange[]
  drift: Drift[]
  /** Warnings and errors, each with a stable code. A plan with an error cannot be applied. */
  diagnostics: Diagnostic[]
  summary: PlanSummary
  /** True when some change is irreversible (needs --allow-irreversible or this saved plan). */
  has_irreversible: boolean
  /** True when some change replaces, deletes or invalidates a card (needs --allow-destroy). */
  has_destructive: boolean
  /** True when there is at least one change other than no-op. */
  has_changes: boolean
  /** False when the plan has errors. */
  applyable: boolean
}

export function assertNever(value: never): never {
  throw new Error(`unexpected value: ${JSON.stringify(value)}`)
}
