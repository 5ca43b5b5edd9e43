import {diffLines} from 'diff'
import {formatPosition} from '../../engine/model/diagnostic.js'
import type {Action, CardReview, FieldChange, Plan, Reason, ResourceChange, SkippedChange} from '../../engine/model/plan.js'
import {assertNever} from '../../engine/model/plan.js'
import type {ImageFile} from '../../engine/model/image.js'

/** Shared vocabulary of the plan renderers: markers, words and value formatting. */

export function actionMarker(action: Action): string {
  switch (action) {
    case 'create':
      return '+'
    case 'update':
      return '~'
    case 'replace':
      return '-/+'
    case 'delete':
    case 'invalidate':
      return '-'
    case 'import':
      return '='
    case 'forget':
      return 'forget'
    case 'no-op':
      return ' '
    default:
      return assertNever(action)
  }
}

export function actionPhrase(c: ResourceChange): string {
  switch (c.action) {
    case 'create':
      return c.reason === 'create-interrupted' ? 'will finish being created' : 'will be created'
    case 'update':
      return 'will be updated in place'
    case 'replace':
      return 'must be replaced (a new card is created, then the old one is removed)'
    case 'delete':
      return c.steps.length === 0 ? 'is already gone and will be forgotten' : 'will be deleted'
    case 'invalidate':
      return c.steps.length === 0 ? 'is already gone and will be forgotten' : 'will be invalidated (作废)'
    case 'import':
      return c.field_changes.length > 0 ? 'will be imported, then updated in place' : 'will be imported'
    case 'forget':
      return 'will no longer be managed by cardform (the live card stays)'
    case 'no-op':
      return c.moved_from ? 'is unchanged' : c.state_updates ? 'is unchanged on WeChat Pay; only state is updated' : 'is unchanged'
    default:
      return assertNever(c.action)
  }
}

export function reasonPhrase(reason: Reason): string {
  switch (reason) {
    case 'new-in-config':
      return 'new in config'
    case 'create-interrupted':
      return 'an earlier create was interrupted'
    case 'changed-in-config':
      return 'changed in config'
    case 'drifted':
      return 'drifted outside cardform'
    case 'removed-from-config':
      return 'removed from config'
    case 'deleted-outside':
      return 'deleted outside cardform'
    case 'import-requested':
      return 'metadata.import_id adopts an existing card'
    case 'in-sync':
      return 'in sync'
    default:
      return assertNever(reason)
  }
}

export function formatValue(v: unknown): string {
  // A field the card (or the spec) does not have: never the word "undefined".
  return v === undefined ? '(absent)' : JSON.stringify(v)
}

/** The new value of a field change: the desired value, or for a local image not uploaded yet, what apply will do. */
export function afterValue(fc: FieldChange): string {
  return fc.upload ? uploadPhrase(fc.upload) : formatValue(fc.after)
}

/** `(file cards/assets/logo.png, sha256 ab12cd34ef56…, 120×120 png) will be uploaded` */
export function uploadPhrase(image: ImageFile): string {
  return `(file ${image.file}, sha256 ${image.sha256.slice(0, 12)}…, ${image.width}×${image.height} ${image.format}) will be uploaded`
}

/** A long text change as unified-style lines (`-`/`+`/` `), with unchanged runs longer than 2 lines collapsed. */
export function textDiffLines(before: unknown, after: unknown): string[] {
  const a = typeof before === 'string' ? before : before === undefined ? '' : JSON.stringify(before)
  const b = typeof after === 'string' ? after : after === undefined ? '' : JSON.stringify(after)
  const out: string[] = []
  if (before === undefined) return b.replace(/\n$/, '').split('\n').map((l) => `+ ${l}`)
  if (after === undefined) return a.replace(/\n$/, '').split('\n').map((l) => `- ${l}`)
  for (const part of diffLines(a.endsWith('\n') ? a : a + '\n', b.endsWith('\n') ? b : b + '\n')) {
    const lines = part.value.replace(/\n$/, '').split('\n')
    const mark = part.added ? '+' : part.removed ? '-' : ' '
    if (mark === ' ' && lines.length > 4) {
      out.push(`  ${lines[0]}`, `  ${lines[1]}`, `  … ${lines.length - 4} unchanged lines`, `  ${lines[lines.length - 2]}`, `  ${lines[lines.length - 1]}`)
    } else {
      for (const line of lines) out.push(`${mark} ${line}`)
    }
  }
  return out
}

/** A field shown as a line diff: a long text (description, legal_agreement…) on at least one side. */
export function isLongText(fc: FieldChange): boolean {
  return fc.long_text === true && (typeof fc.before === 'string' || typeof fc.after === 'string')
}

export function fieldMarker(fc: FieldChange): string {
  return fc.before === undefined ? '+' : fc.after === undefined && !fc.upload ? '-' : '~'
}

/** The line under a card for one state update: what apply records with no API call. */
export function stateUpdateLine(update: string): string {
  return `# state only (no API call): ${update}`
}

/** The warning for a change that takes the card away from its members (replace, delete, invalidate). */
export function destructiveSentence(c: ResourceChange): string {
  const what =
    c.action === 'replace'
      ? c.replace_paths.length > 0
        ? `replaced (forced by ${c.replace_paths.join(', ')})`
        : 'replaced (finishing an interrupted replacement: the old card is removed)'
      : c.action === 'invalidate'
        ? 'invalidated'
        : 'deleted'
  const card = c.remote_id ? `card ${c.remote_id}` : 'the card'
  return `${c.address} will be ${what}: every member who holds ${card} loses it. apply needs --allow-destroy.`
}

/** The warning for a one-way field being switched on. */
export function irreversibleSentence(c: ResourceChange, path: string): string {
  return `${c.address}: ${path} will be switched on and can never be switched off (一旦展示无法关闭).`
}

/** A sentence for a change that --no-delete left out. */
export function skippedLine(s: SkippedChange): string {
  const what = s.action === 'replace' ? 'be replaced' : s.action === 'invalidate' ? 'be invalidated' : 'be deleted'
  return `${s.address}${s.remote_id ? ` (card ${s.remote_id})` : ''} would ${what}; skipped (--no-delete)`
}

export function where(c: ResourceChange): string {
  return c.source ? formatPosition(c.source) : ''
}

export function summaryLine(plan: Plan): string {
  const s = plan.summary
  if (plan.mode === 'refresh-only') return refreshOnlySummaryLine(plan)
  if (!plan.has_changes) {
    return plan.applyable ? 'No changes. The live cards match the configuration.' : 'No changes can be planned until the errors above are fixed.'
  }
  const parts = [`${s.create} to create`, `${s.update} to update`, `${s.replace} to replace`, `${s.delete} to delete`, `${s.invalidate} to invalidate`]
  // Counts added in plan format 1.1, named only when there are some, so the common line stays short.
  if (s.import) parts.push(`${s.import} to import`)
  if (s.forget) parts.push(`${s.forget} to forget`)
  if (s.move) parts.push(`${s.move} to move`)
  if (s.state_only) parts.push(`${s.state_only} state-only`)
  const irreversible = plan.changes.reduce((n, c) => n + c.irreversible_paths.length, 0)
  const uploads = plan.uploads?.length ?? 0
  return (
    `Plan: ${parts.join(', ')}.` +
    (uploads ? ` ${uploads} image${uploads > 1 ? 's' : ''} to upload.` : '') +
    (irreversible ? ` ${irreversible} irreversible field change${irreversible > 1 ? 's' : ''}.` : '')
  )
}

function refreshOnlySummaryLine(plan: Plan): string {
  if (!plan.applyable) return 'Refresh-only: nothing can be recorded until the errors above are fixed.'
  const n = plan.drift.length
  if (n === 0) return 'No drift: the live cards match the state.'
  const deleted = plan.drift.filter((d) => d.type === 'deleted').length
  const gone = deleted === 0 ? '' : ` ${deleted === n ? (n === 1 ? 'It was' : 'They were') : `${deleted} of them ${deleted === 1 ? 'was' : 'were'}`} deleted and ${deleted === 1 ? 'leaves' : 'leave'} the state.`
  return `Refresh-only: ${n} card${n === 1 ? '' : 's'} changed outside cardform; apply --refresh-only records their live values in state.${gone}`
}

/** The --target/--exclude patterns a plan was limited to (each formatted by `code`), or undefined for a full plan. */
export function targetingLine(plan: Plan, code: (flag: string) => string = (f) => f): string | undefined {
  const flags = [...(plan.targets ?? []).map((t) => `--target ${t}`), ...(plan.excludes ?? []).map((e) => `--exclude ${e}`)]
  return flags.length ? `Targeted plan (${flags.map(code).join(' ')}): cards outside it were neither read nor planned.` : undefined
}

/**
 * One card's review (审核) status in words. The API gives no reason for a failure (membercard-open's GET has no such
 * field), so the line sends the reader to the merchant platform.
 */
export function reviewLine(r: CardReview): string {
  const card = `${r.address} (card ${r.remote_id})`
  switch (r.status) {
    case 'in-review':
      return `${card} is in WeChat Pay review (${r.api_status}): it cannot be handed out until approved`
    case 'failed':
      return `${card} failed WeChat Pay review (${r.api_status}); the API gives no reason: see the merchant platform`
    case 'approved':
      return `${card} is approved (${r.api_status})`
    default:
      return assertNever(r.status)
  }
}
