import {formatPosition} from '../../engine/model/diagnostic.js'
import type {FieldChange, Plan, ResourceChange} from '../../engine/model/plan.js'
import {actionMarker, actionPhrase, afterValue, fieldMarker, formatValue, isLongText, reasonPhrase, reviewLine, skippedLine, stateUpdateLine, summaryLine, targetingLine, textDiffLines} from './plan-common.js'
import {changesSomething} from '../../engine/plan/compute-plan.js'

/** GitHub refuses comments over 65,536 characters; parts stay under this with room for a header. */
export const MARKDOWN_PART_LIMIT = 65_000

/**
 * The plan as a pull-request comment: the summary table first, irreversible and destructive changes called out at
 * the top, then one collapsible section per card. Returns one or more parts, each under MARKDOWN_PART_LIMIT
 * characters; a card section is never split across parts (a section larger than a part is truncated with a note).
 */
export function renderPlanMarkdown(plan: Plan, limit = MARKDOWN_PART_LIMIT): string[] {
  const head: string[] = ['## cardform plan', '', `**${summaryLine(plan)}**`, '']
  const targeting = targetingLine(plan, (f) => `\`${f}\``)
  if (targeting) head.push(targeting, '')
  head.push('| action | count |', '| --- | ---: |')
  // The six counts of format 1.0 always; the later ones (import, forget, move, state-only) only when not zero.
  const always = new Set(['create', 'update', 'replace', 'delete', 'invalidate', 'no_op'])
  for (const [k, v] of Object.entries(plan.summary)) if (always.has(k) || v) head.push(`| ${k.replace('_', '-')} | ${v} |`)
  head.push('')

  const warnings: string[] = []
  for (const c of plan.changes) {
    if (c.destructive) {
      warnings.push(`- **${c.address}** ${actionPhrase(c)}: every member who holds ${c.remote_id ? `card \`${c.remote_id}\`` : 'the card'} loses it (needs \`--allow-destroy\`)`)
    }
    for (const p of c.irreversible_paths) warnings.push(`- **${c.address}**: \`${p}\` is switched on and can never be switched off (一旦展示无法关闭)`)
  }
  if (warnings.length) head.push('> [!CAUTION]', '> Irreversible or destructive changes:', ...warnings.map((w) => `> ${w}`), '')
  const errors = plan.diagnostics.filter((d) => d.severity === 'error')
  const warns = plan.diagnostics.filter((d) => d.severity === 'warning')
  if (errors.length) {
    head.push('> [!WARNING]', '> This plan has errors and cannot be applied:')
    for (const d of errors) head.push(`> - \`${d.code}\` ${d.source ? `\`${formatPosition(d.source)}\` ` : ''}${escapeMd(d.message)}`)
    head.push('')
  }
  if (warns.length) {
    head.push('<details><summary>Warnings (' + warns.length + ')</summary>', '')
    for (const d of warns) head.push(`- \`${d.code}\` ${d.source ? `\`${formatPosition(d.source)}\` ` : ''}${escapeMd(d.message)}`)
    head.push('', '</details>', '')
  }
  if (plan.drift.length) {
    head.push('<details><summary>Changed outside cardform (drift): ' + plan.drift.length + '</summary>', '', '```diff')
    for (const d of plan.drift) {
      head.push(d.type === 'deleted' ? `- ${d.address} deleted outside cardform` : `! ${d.address} changed outside cardform`)
      for (const fc of d.field_changes) {
        if (isLongText(fc)) head.push(`!   ${fc.path}:`, ...textDiffLines(fc.before, fc.after).map((l) => `${l[0]}       ${l.slice(2)}`))
        else head.push(`!   ${fc.path}: ${formatValue(fc.before)} → ${afterValue(fc)}`)
      }
    }
    head.push('```', '', '</details>', '')
  }

  if (plan.reviews?.length) {
    const failed = plan.reviews.some((r) => r.status === 'failed')
    head.push(failed ? '> [!WARNING]' : '> [!NOTE]', '> WeChat Pay review (审核; not drift, nothing to apply):', ...plan.reviews.map((r) => `> - ${escapeMd(reviewLine(r))}`), '')
  }
  if (plan.skipped?.length) {
    head.push('> [!NOTE]', '> Left alone (`--no-delete`):', ...plan.skipped.map((s) => `> - ${escapeMd(skippedLine(s))}`), '')
  }

  const sections = plan.changes.filter(changesSomething).map((c) => section(c, limit))
  const parts: string[] = []
  let current = head.join('\n')
  for (const s of sections) {
    if (current.length + s.length + 1 > limit) {
      parts.push(current)
      current = `## cardform plan (continued)\n\n`
    }
    current += s + '\n'
  }
  parts.push(current)
  if (parts.length > 1) return parts.map((p, i) => `${p}\n_Part ${i + 1} of ${parts.length}._\n`)
  return parts
}

function section(c: ResourceChange, limit: number): string {
  const moved = c.moved_from ? `moved from ${c.moved_from}; ` : ''
  const marker = c.moved_from && c.action === 'no-op' ? 'moved' : actionMarker(c.action)
  const title = `${marker} ${c.address} ${moved}${actionPhrase(c)} (${reasonPhrase(c.reason)})`
  const body: string[] = []
  if (c.moved_from) body.push(`# ${c.moved_from} has moved to ${c.address}`)
  for (const fc of c.field_changes) body.push(...fieldLines(fc))
  for (const u of c.state_updates ?? []) body.push(`  ${stateUpdateLine(u)}`)
  if (c.unchanged_count) body.push(`  # ${c.unchanged_count} unchanged fields hidden`)
  const diff = body.length > 0 ? ['```diff', ...body, '```', ''] : []
  let text = [`<details><summary><code>${escapeHtml(title)}</code></summary>`, '', ...diff, '</details>', ''].join('\n')
  if (text.length > limit - 200) {
    text = text.slice(0, limit - 400) + '\n```\n\n_Section truncated: see `cardform plan` output for the full diff._\n\n</details>\n'
  }
  return text
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

function escapeMd(s: string): string {
  return s.replace(/([<>])/g, '\\$1')
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}
