import {formatPosition} from '../../engine/model/diagnostic.js'
import type {FieldChange, Plan, ResourceChange} from '../../engine/model/plan.js'
import {actionMarker, actionPhrase, afterValue, fieldMarker, reviewLine, formatValue, isLongText, reasonPhrase, skippedLine, stateUpdateLine, summaryLine, targetingLine, textDiffLines} from './plan-common.js'
import {changesSomething} from '../../engine/plan/compute-plan.js'
import {COMMENT_LIMITS} from './comment-limits.js'

export {COMMENT_LIMITS}

/**
 * How much of the plan the comment shows, richest first: `full` (every card's field changes), `compact` (the
 * summary, the callouts and one line per card) and `summary` (the counts, with a note of everything left out).
 */
export type MarkdownTier = 'full' | 'compact' | 'summary'

export interface MarkdownOptions {
  /** The largest comment allowed, in characters; 0 = no limit (always `full`). Default: GitHub's 65,536. */
  limit?: number
  /** Names the comment in its marker line, so each project of a repository keeps its own comment. Default ".". */
  project?: string
}

/** The comment, or (when even the summary is longer than the limit) how long the summary is: never a cut plan. */
export type PlanMarkdown = {fits: true; tier: MarkdownTier; text: string} | {fits: false; needed: number}

/**
 * The first line of every plan comment: an HTML comment (invisible once rendered) by which CI finds the comment it
 * posted before and edits it in place. The project is percent-encoded (slashes kept), so it never holds a space or
 * `-->`; CI matches the whole line, so `project=a` never matches `project=ab`.
 */
export function planMarker(project = '.'): string {
  return `<!-- cardform:plan project=${encodeURIComponent(project).replace(/%2F/g, '/')} -->`
}

/**
 * The plan as a pull-request comment, at the richest tier that fits the limit. Every tier starts with the marker
 * line and the summary table; irreversible and destructive changes are called out before any card; a tier that
 * leaves something out says what, and where the whole plan is.
 */
export function renderPlanMarkdown(plan: Plan, options: MarkdownOptions = {}): PlanMarkdown {
  const limit = options.limit ?? COMMENT_LIMITS.github
  const marker = planMarker(options.project)
  const fits = (text: string) => limit === 0 || text.length <= limit
  const full = fullTier(plan, marker)
  if (fits(full)) return {fits: true, tier: 'full', text: full}
  const compact = compactTier(plan, marker, limit)
  if (fits(compact)) return {fits: true, tier: 'compact', text: compact}
  const summary = summaryTier(plan, marker, limit)
  if (fits(summary)) return {fits: true, tier: 'summary', text: summary}
  return {fits: false, needed: summary.length}
}

const WHOLE_PLAN = 'The whole plan: `cardform plan` on this branch, or the saved plan file (`cardform plan --out`) that CI keeps with this run.'

function fullTier(plan: Plan, marker: string): string {
  const out = [...header(plan, marker), ...cautions(plan), ...errorCallout(plan), ...warningList(plan), ...driftBlock(plan, true), ...reviewNote(plan), ...skippedNote(plan)]
  for (const c of plan.changes.filter(changesSomething)) out.push(...section(c))
  return out.join('\n')
}

function compactTier(plan: Plan, marker: string, limit: number): string {
  const cards = plan.changes.filter(changesSomething)
  const left: string[] = []
  const withFields = cards.filter((c) => c.field_changes.length || c.state_updates?.length).length
  if (withFields) left.push(`the field changes of ${count(withFields, 'card')}`)
  const driftFields = plan.drift.filter((d) => d.field_changes.length).length
  if (driftFields) left.push(`the drifted fields of ${count(driftFields, 'card')}`)
  const note = leftOutNote('Compact view', left, limit)
  const out = [...header(plan, marker), ...note, ...cautions(plan), ...errorCallout(plan), ...warningList(plan), ...driftBlock(plan, false), ...reviewNote(plan), ...skippedNote(plan)]
  // In a diff block a line starting with + or - is coloured: creates green, deletions and replacements red.
  if (cards.length) out.push('```diff', ...cards.map((c) => `${title(c)}${fieldCount(c)}`), '```', '')
  return out.join('\n')
}

function summaryTier(plan: Plan, marker: string, limit: number): string {
  const cards = plan.changes.filter(changesSomething).length
  const left = [`the list of ${count(cards, 'changed card')} and their field changes`]
  const callouts = plan.changes.filter((c) => c.destructive).length + plan.changes.reduce((n, c) => n + c.irreversible_paths.length, 0)
  if (callouts) left.push(`which ${callouts === 1 ? 'change is' : 'changes are'} irreversible or destructive`)
  const errors = plan.diagnostics.filter((d) => d.severity === 'error').length
  const warnings = plan.diagnostics.length - errors
  if (errors) left.push(`the ${count(errors, 'error')}`)
  if (warnings) left.push(`${count(warnings, 'warning')}`)
  if (plan.drift.length) left.push(`the drift of ${count(plan.drift.length, 'card')}`)
  if (plan.skipped?.length) left.push(`${count(plan.skipped.length, 'change')} left alone by \`--no-delete\``)
  const failedReview = plan.reviews?.filter((r) => r.status === 'failed').length ?? 0
  const inReview = plan.reviews?.filter((r) => r.status === 'in-review').length ?? 0
  if (failedReview || inReview) left.push(`which cards are in WeChat Pay review (${inReview}) or failed it (${failedReview})`)
  const out = [...header(plan, marker), ...leftOutNote('Summary only', left, limit)]
  if (callouts) out.push('> [!CAUTION]', `> ${count(callouts, 'irreversible or destructive change')}: read the whole plan before approving.`, '')
  if (errors) out.push('> [!WARNING]', `> This plan has ${count(errors, 'error')} and cannot be applied.`, '')
  return out.join('\n')
}

function header(plan: Plan, marker: string): string[] {
  const out = [marker, '## cardform plan', '', `**${summaryLine(plan)}**`, '']
  const targeting = targetingLine(plan, (f) => `\`${f}\``)
  if (targeting) out.push(targeting, '')
  out.push('| action | count |', '| --- | ---: |')
  // The six counts of format 1.0 always; the later ones (import, forget, move, state-only) only when not zero.
  const always = new Set(['create', 'update', 'replace', 'delete', 'invalidate', 'no_op'])
  for (const [k, v] of Object.entries(plan.summary)) if (always.has(k) || v) out.push(`| ${k.replace('_', '-')} | ${v} |`)
  out.push('')
  return out
}

function leftOutNote(tier: string, left: string[], limit: number): string[] {
  return ['> [!NOTE]', `> ${tier}, to keep this comment within ${limit.toLocaleString('en-US')} characters. Left out: ${joinList(left)}.`, `> ${WHOLE_PLAN}`, '']
}

function cautions(plan: Plan): string[] {
  const warnings: string[] = []
  for (const c of plan.changes) {
    if (c.destructive) {
      warnings.push(`- **${c.address}** ${actionPhrase(c)}: every member who holds ${c.remote_id ? `card \`${c.remote_id}\`` : 'the card'} loses it (needs \`--allow-destroy\`)`)
    }
    for (const p of c.irreversible_paths) warnings.push(`- **${c.address}**: \`${p}\` is switched on and can never be switched off (一旦展示无法关闭)`)
  }
  return warnings.length ? ['> [!CAUTION]', '> Irreversible or destructive changes:', ...warnings.map((w) => `> ${w}`), ''] : []
}

function errorCallout(plan: Plan): string[] {
  const errors = plan.diagnostics.filter((d) => d.severity === 'error')
  if (!errors.length) return []
  const out = ['> [!WARNING]', '> This plan has errors and cannot be applied:']
  for (const d of errors) out.push(`> - \`${d.code}\` ${d.source ? `\`${formatPosition(d.source)}\` ` : ''}${escapeMd(d.message)}`)
  return [...out, '']
}

function warningList(plan: Plan): string[] {
  const warns = plan.diagnostics.filter((d) => d.severity === 'warning')
  if (!warns.length) return []
  const out = ['<details><summary>Warnings (' + warns.length + ')</summary>', '']
  for (const d of warns) out.push(`- \`${d.code}\` ${d.source ? `\`${formatPosition(d.source)}\` ` : ''}${escapeMd(d.message)}`)
  return [...out, '', '</details>', '']
}

/** Drift with each drifted field (full), or one line per card (compact). */
function driftBlock(plan: Plan, withFields: boolean): string[] {
  if (!plan.drift.length) return []
  const out = ['<details><summary>Changed outside cardform (drift): ' + plan.drift.length + '</summary>', '', '```diff']
  for (const d of plan.drift) {
    if (d.type === 'deleted') {
      out.push(`- ${d.address} deleted outside cardform`)
      continue
    }
    out.push(`! ${d.address} changed outside cardform${withFields ? '' : fieldCount(d)}`)
    if (!withFields) continue
    for (const fc of d.field_changes) {
      if (isLongText(fc)) out.push(`!   ${fc.path}:`, ...textDiffLines(fc.before, fc.after).map((l) => `${l[0]}       ${l.slice(2)}`))
      else out.push(`!   ${fc.path}: ${formatValue(fc.before)} → ${afterValue(fc)}`)
    }
  }
  return [...out, '```', '', '</details>', '']
}

/** Cards in WeChat Pay review (审核) or failed it: not drift and nothing to apply, but a reviewer should know. */
function reviewNote(plan: Plan): string[] {
  if (!plan.reviews?.length) return []
  const failed = plan.reviews.some((r) => r.status === 'failed')
  return [failed ? '> [!WARNING]' : '> [!NOTE]', '> WeChat Pay review (审核; not drift, nothing to apply):', ...plan.reviews.map((r) => `> - ${escapeMd(reviewLine(r))}`), '']
}

function skippedNote(plan: Plan): string[] {
  if (!plan.skipped?.length) return []
  return ['> [!NOTE]', '> Left alone (`--no-delete`):', ...plan.skipped.map((s) => `> - ${escapeMd(skippedLine(s))}`), '']
}

function title(c: ResourceChange): string {
  const moved = c.moved_from ? `moved from ${c.moved_from}; ` : ''
  return `${c.moved_from && c.action === 'no-op' ? 'moved' : actionMarker(c.action)} ${c.address} ${moved}${actionPhrase(c)} (${reasonPhrase(c.reason)})`
}

function fieldCount(c: {field_changes: readonly FieldChange[]; state_updates?: readonly string[] | undefined}): string {
  const n = c.field_changes.length + (c.state_updates?.length ?? 0)
  return n ? `: ${count(n, 'field')}` : ''
}

function section(c: ResourceChange): string[] {
  const body: string[] = []
  if (c.moved_from) body.push(`# ${c.moved_from} has moved to ${c.address}`)
  for (const fc of c.field_changes) body.push(...fieldLines(fc))
  for (const u of c.state_updates ?? []) body.push(`  ${stateUpdateLine(u)}`)
  if (c.unchanged_count) body.push(`  # ${c.unchanged_count} unchanged fields hidden`)
  const diff = body.length > 0 ? ['```diff', ...body, '```', ''] : []
  return [`<details><summary><code>${escapeHtml(title(c))}</code></summary>`, '', ...diff, '</details>', '']
}

function fieldLines(fc: FieldChange): string[] {
  const mark = fieldMarker(fc)
  const notes = [fc.forces_replacement ? '# forces replacement' : '', fc.irreversible ? '! irreversible' : '', fc.source === 'drift' ? '# drifted' : '']
    .filter(Boolean)
    .join('  ')
  const suffix = notes ? `  ${notes}` : ''
  const m = mark === '~' ? '!' : mark
  if (isLongText(fc)) {
    return [`${m} ${fc.path}:${suffix}`, ...textDiffLines(fc.before, fc.after).map((l) => `${l[0]}     ${l.slice(2)}`)]
  }
  const value = mark === '+' ? afterValue(fc) : mark === '-' ? formatValue(fc.before) : `${formatValue(fc.before)} → ${afterValue(fc)}`
  return [`${m} ${fc.path}: ${value}${suffix}`]
}

function count(n: number, noun: string): string {
  return `${n.toLocaleString('en-US')} ${noun}${n === 1 ? '' : 's'}`
}

function joinList(items: string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`
}

function escapeMd(s: string): string {
  return s.replace(/([<>])/g, '\\$1')
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}
