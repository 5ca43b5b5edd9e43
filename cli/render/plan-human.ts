import type {Drift, FieldChange, Plan, ResourceChange} from '../../engine/model/plan.js'
import {actionMarker, actionPhrase, afterValue, destructiveSentence, fieldMarker, formatValue, irreversibleSentence, isLongText, reasonPhrase, reviewLine, skippedLine, stateUpdateLine, summaryLine, targetingLine, textDiffLines, where} from './plan-common.js'
import {changesSomething} from '../../engine/plan/compute-plan.js'
import {renderDiagnostic} from './diagnostics.js'
import type {Style} from './style.js'

/**
 * The plan as a reviewer reads it in a terminal or a CI log. Pure: (plan, style) → text.
 *
 * Order: what needs attention first (irreversible and destructive changes), then drift, then the cards in or failing
 * WeChat Pay review, then every card with a change, then diagnostics, then the summary line.
 */
export function renderPlanHuman(plan: Plan, style: Style): string {
  const out: string[] = []
  const changed = plan.changes.filter(changesSomething)

  const attention = attentionLines(plan, style)
  if (attention.length) out.push(...attention, '')

  if (plan.drift.length) {
    out.push(style.bold('Cards changed outside cardform (drift):'), '')
    for (const d of plan.drift) out.push(...renderDrift(d, style), '')
  }
  if (plan.reviews?.length) {
    out.push(style.bold('WeChat Pay review (审核; not drift, nothing to apply):'), '')
    for (const r of plan.reviews) out.push((r.status === 'failed' ? style.removed : style.warning)(`  # ${reviewLine(r)}`))
    out.push('')
  }
  if (changed.length) {
    out.push(style.bold('cardform will perform the following actions:'), '')
    for (const c of changed) out.push(...renderChange(c, style), '')
  }
  if (plan.skipped?.length) {
    out.push(style.bold('Left alone (--no-delete):'), '')
    for (const s of plan.skipped) out.push(style.warning(`  # ${skippedLine(s)}`))
    out.push('')
  }
  if (plan.diagnostics.length) {
    for (const d of plan.diagnostics) out.push(renderDiagnostic(d, style))
    out.push('')
  }
  out.push(style.bold(summaryLine(plan)))
  const targeting = targetingLine(plan)
  if (targeting) out.push(style.warning(targeting))
  if (!plan.refreshed) out.push(style.warning('Live cards were not read (--refresh=false): drift is not shown.'))
  return out.join('\n') + '\n'
}

function attentionLines(plan: Plan, style: Style): string[] {
  const lines: string[] = []
  for (const c of plan.changes) if (c.destructive) lines.push(style.removed(`! ${destructiveSentence(c)}`))
  for (const c of plan.changes) for (const p of c.irreversible_paths) lines.push(style.irreversible(`! ${irreversibleSentence(c, p)}`))
  return lines
}

function renderChange(c: ResourceChange, style: Style): string[] {
  const color = c.action === 'create' || c.action === 'import' ? style.added : c.action === 'update' || c.action === 'no-op' ? style.changed : style.removed
  const id = c.remote_id ? ` (card ${c.remote_id})` : ''
  const loc = where(c)
  const lines: string[] = []
  if (c.moved_from) lines.push(style.bold(`  # ${c.moved_from} has moved to ${c.address}`) + (loc && c.action === 'no-op' ? style.dim(`  ${loc}`) : ''))
  if (!(c.moved_from && c.action === 'no-op' && !c.state_updates)) {
    const why = c.action === 'no-op' ? '' : `: ${reasonPhrase(c.reason)}`
    lines.push(style.bold(`  # ${c.address}${id} ${actionPhrase(c)}${why}`) + (loc ? style.dim(`  ${loc}`) : ''))
  }
  lines.push(color(`  ${c.moved_from && c.action === 'no-op' ? 'moved' : actionMarker(c.action)} ${c.kind} "${c.name}"`))
  for (const fc of c.field_changes) lines.push(...renderField(fc, style, '      '))
  for (const u of c.state_updates ?? []) lines.push(style.dim(`      ${stateUpdateLine(u)}`))
  if (c.unchanged_count > 0) lines.push(style.dim(`      # (${c.unchanged_count} unchanged field${c.unchanged_count > 1 ? 's' : ''} hidden)`))
  return lines
}

function renderField(fc: FieldChange, style: Style, indent: string): string[] {
  const mark = fieldMarker(fc)
  const color = mark === '+' ? style.added : mark === '-' ? style.removed : style.changed
  const notes = [
    fc.forces_replacement ? style.removed('# forces replacement') : '',
    fc.irreversible ? style.irreversible('! irreversible') : '',
    fc.source === 'drift' ? style.drift('# drifted: restores the configured value') : '',
    fc.write_only && fc.before !== undefined ? style.dim('# not readable by GET: compared with state') : '',
  ].filter(Boolean)
  const suffix = notes.length ? '  ' + notes.join('  ') : ''
  if (isLongText(fc)) return [color(`${indent}${mark} ${fc.path}:`) + suffix, ...textLines(fc, style, indent)]
  const value = mark === '+' ? afterValue(fc) : mark === '-' ? `${formatValue(fc.before)} → (removed)` : `${formatValue(fc.before)} → ${afterValue(fc)}`
  return [color(`${indent}${mark} ${fc.path}: ${value}`) + suffix]
}

function renderDrift(d: Drift, style: Style): string[] {
  const id = d.remote_id ? ` (card ${d.remote_id})` : ''
  if (d.type === 'deleted') return [style.drift(`  # ${d.address}${id} was deleted outside cardform`)]
  const lines = [style.drift(`  # ${d.address}${id} was changed outside cardform`)]
  for (const fc of d.field_changes) {
    if (isLongText(fc)) lines.push(`      ~ ${fc.path}:`, ...textLines(fc, style, '      '))
    else lines.push(`      ~ ${fc.path}: ${formatValue(fc.before)} → ${afterValue(fc)}`)
  }
  return lines
}

/** A long text's change as a line diff, indented under its field. */
function textLines(fc: FieldChange, style: Style, indent: string): string[] {
  return textDiffLines(fc.before, fc.after).map((l) => {
    const c = l.startsWith('+') ? style.added : l.startsWith('-') ? style.removed : style.dim
    return c(`${indent}    ${l}`)
  })
}
