import type {Address} from './address.js'
import type {Diagnostic, SourcePosition} from './diagnostic.js'
import type {ImageFile} from './image.js'

/**
 * A plan is plain, serializable data: `plan --json` prints it, `plan --out` saves it (with the desired specs it was
 * computed from), and `apply FILE` executes exactly its steps. Described by schemas/plan.schema.json.
 *
 * Compatibility (as Terraform's JSON plan): a minor bump of format_version only adds properties; a reader rejects a
 * major version it does not know.
 */
export const PLAN_FORMAT_VERSION = '1.3'

/** The closed set of actions. Every switch over it ends in assertNever. */
export type Action =
  | 'create'
  | 'update'
  | 'replace'
  | 'delete'
  | 'invalidate'
  /** Adopt an existing card (metadata.import_id): recorded in state, nothing created; may be followed by a PATCH. */
  | 'import'
  /** Remove the card from state only (lifecycle.destroy: false); the live card stays. */
  | 'forget'
  | 'no-op'

/** Why an action was chosen. */
export type Reason =
  | 'new-in-config' // in the specs, not in state
  | 'create-interrupted' // state journals a create whose outcome is unknown: resume it with the same out_request_no
  | 'changed-in-config' // the spec differs from what cardform applied last time
  | 'drifted' // the live card differs from what cardform applied last time, the spec did not change
  | 'removed-from-config' // in state, no longer in the specs
  | 'deleted-outside' // in state, but the live card is gone (deleted or invalidated outside cardform)
  | 'import-requested' // metadata.import_id names an existing card that state does not hold yet
  | 'in-sync'

/** Which side of the three-way diff a field change comes from. */
export type ChangeSource = 'config' | 'drift'

export interface FieldChange {
  /** Dotted path inside spec, list items by key where the schema names one: `user_information_form.custom_field_list[name=喜欢的运动]`. */
  path: string
  /** The live value (or, for fields GET cannot return, the last-applied one); absent when there was none. */
  before?: unknown
  /** The desired value; absent when the field is removed, and when `upload` is set (the URL is known after apply). */
  after?: unknown
  /** The desired value is a local image never uploaded: apply uploads it and sets the field to its media URL. */
  upload?: ImageFile
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
  /** Upload a local image (skipped when state already has its sha256); the steps after it use its URL. */
  | {op: 'upload'; image: ImageFile}
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
  /** The card's previous address (metadata.moved_from): apply moves its state entry here, with no API call. */
  moved_from?: Address
  /**
   * What apply records in state without an API call: fields the spec stopped setting (no longer managed), fields the
   * spec now agrees with after drift, lifecycle settings. A plan shows everything apply will write.
   */
  state_updates?: string[]
}

/** A change the plan would make but was told to leave alone. */
export interface SkippedChange {
  address: Address
  kind: string
  name: string
  action: Action
  remote_id?: string
  /** `no-delete`: apply --no-delete never deletes, invalidates or replaces a card. */
  why: 'no-delete'
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
  /** Fingerprint of the live card read, so apply --refresh-only of a saved plan can tell that it moved since. */
  live_fingerprint?: string
}

/** What a card's review (审核) status means, whatever the family calls it (x-cardform-review in the kind schema). */
export type ReviewStatus = 'in-review' | 'failed' | 'approved'

/**
 * A card's review status as the live card showed it. Not drift and not a change: WeChat Pay reviews a created or
 * edited template, and only an approved one can be handed out. membercard-open's GET documents no reason for a
 * failure, so none is carried.
 */
export interface CardReview {
  address: Address
  kind: string
  name: string
  remote_id: string
  status: ReviewStatus
  /** The API's own value, e.g. NOT_APPROVE. */
  api_status: string
}

export interface PlanSummary {
  create: number
  update: number
  replace: number
  delete: number
  invalidate: number
  no_op: number
  import?: number
  forget?: number
  /** Cards whose address changes (moved_from). */
  move?: number
  /** Cards whose state entry changes with no API call. */
  state_only?: number
}

/** normal: make the live cards match the specs. refresh-only: accept the live values into state, no API writes. */
export type PlanMode = 'normal' | 'refresh-only'

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
  /** Absent in plans of format 1.0, which were all normal. */
  mode?: PlanMode
  /** --target patterns the plan was limited to (globs on addresses). */
  targets?: string[]
  /** --exclude patterns left out of the plan. */
  excludes?: string[]
  /** Changes left out on purpose (--no-delete), listed so a reviewer sees them. */
  skipped?: SkippedChange[]
  changes: ResourceChange[]
  /** The distinct local images apply will upload (by sha256), in the order of the changes that first need them. */
  uploads?: ImageFile[]
  drift: Drift[]
  /** Cards whose live review status is in review or failed (format 1.3); absent when nothing was read. */
  reviews?: CardReview[]
  /** Warnings and errors, each with a stable code. A plan with an error cannot be applied. */
  diagnostics: Diagnostic[]
  summary: PlanSummary
  /** True when some change is irreversible (needs --allow-irreversible or this saved plan). */
  has_irreversible: boolean
  /** True when some change replaces, deletes or invalidates a card (needs --allow-destroy). */
  has_destructive: boolean
  /** True when apply would change anything: an API call or a state write. */
  has_changes: boolean
  /** True when some live card differs from state. */
  has_drift?: boolean
  /** False when the plan has errors. */
  applyable: boolean
}

export function assertNever(value: never): never {
  throw new Error(`unexpected value: ${JSON.stringify(value)}`)
}
