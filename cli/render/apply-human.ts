import type {ApplyEvent, StateWriteFailure, UnrecordedCard} from '../../engine/apply/apply-plan.js'
import type {RemoteFailure} from '../../engine/apply/gateway.js'
import type {ApplyRun} from '../../engine/operations.js'
import {renderDiagnostic} from './diagnostics.js'
import type {Style} from './style.js'

/** One progress line per remote call, as apply makes it. */
export function renderApplyEvent(e: ApplyEvent, style: Style): string | undefined {
  switch (e.type) {
    case 'step-start':
      return undefined
    case 'step-done':
      return `${style.added('✓')} ${e.address}: ${e.op}${e.file ? ` ${e.file}` : ''} done${e.remoteId ? ` (card ${e.remoteId})` : ''} ${style.dim(`${e.ms}ms`)}`
    case 'step-failed':
      return `${style.error('✗')} ${e.address}: ${e.op}${e.file ? ` ${e.file}` : ''} failed${e.remoteId ? ` (card ${e.remoteId})` : ''}: ${e.failure.message}${failureDetail(e.failure, style)}`
  }
}

/**
 * ` [HTTP 400, INVALID_REQUEST, Request-ID X]`, or '' when the failure has none of them. The failure's message never
 * repeats these (engine/providers/gateway.ts describeFailure), so each is said once.
 */
export function failureDetail(f: RemoteFailure, style: Style): string {
  const detail = [f.status !== undefined ? `HTTP ${f.status}` : '', f.code ?? '', f.requestId ? `Request-ID ${f.requestId}` : ''].filter(Boolean).join(', ')
  return detail ? style.dim(` [${detail}]`) : ''
}

/** The closing summary: what was done, what failed (with the API's code, message and Request-ID), and why not. */
export function renderApplySummary(run: ApplyRun, style: Style): string {
  const lines: string[] = []
  if (run.refused.length > 0) {
    for (const d of run.refused) lines.push(renderDiagnostic(d, style))
    lines.push(style.bold('Nothing was applied.'))
    return lines.join('\n') + '\n'
  }
  const r = run.result!
  if (run.accepted) {
    const {modified, removed} = run.accepted
    const cards = (n: number) => `${n} card${n === 1 ? '' : 's'}`
    const what =
      modified.length + removed.length === 0
        ? 'nothing to record'
        : `${cards(modified.length)} recorded with ${modified.length === 1 ? 'its' : 'their'} live values, ${cards(removed.length)} deleted outside cardform removed from state`
    lines.push('', style.bold(`${style.added('Refresh-only apply complete')}: ${what}; no card was changed.`))
    if (run.state && r.done > 0) lines.push(style.dim(`State serial ${run.state.serial}, lineage ${run.state.lineage}.`))
    return lines.join('\n') + '\n'
  }
  const failed = r.outcomes.filter((o) => o.status === 'failed')
  if (failed.length) {
    lines.push('', style.error('Failed:'))
    for (const o of failed) {
      const f = o.failure!
      const step = o.failedStep ? `, step ${o.failedStep}` : ''
      lines.push(`  ${o.address} (${o.action}${step}): ${f.message}${failureDetail(f, style)}`)
    }
  }
  const why = r.interrupted ? 'interrupted' : r.stateWriteFailure ? 'the state could not be written' : '--fail-fast'
  const skipped = r.skipped ? `, ${r.skipped} skipped (${why})` : ''
  const verdict = failed.length ? style.error('Apply finished with errors') : r.interrupted ? style.warning('Apply interrupted') : style.added('Apply complete')
  lines.push('', style.bold(`${verdict}: ${r.done} card${r.done === 1 ? '' : 's'} changed, ${r.failed} failed${skipped}.`))
  const notWritten = r.stateWriteFailure
  if (notWritten) {
    // Never the serial the failed write tried: only one the store accepted.
    lines.push(`${style.error(`error[${notWritten.code ?? 'state-write-failed'}]`)}: the state could not be written: ${notWritten.message}`)
    lines.push(
      notWritten.lastSerial !== undefined
        ? `The last state this apply wrote is serial ${notWritten.lastSerial}${run.state ? `, lineage ${run.state.lineage}` : ''}; what it did after that is not recorded in state.`
        : 'This apply wrote no state.',
    )
    lines.push(...renderUnrecorded(notWritten, style))
  } else if (run.state) {
    lines.push(style.dim(`State serial ${run.state.serial}, lineage ${run.state.lineage}.`))
  }
  if (run.plan.targets?.length || run.plan.excludes?.length) {
    lines.push(style.warning('Resource targeting was in effect: only the selected cards were applied; run a full plan to see what else is pending.'))
  }
  if (run.lockNotReleased) {
    lines.push(
      style.warning(
        `The lock could not be released (${run.lockNotReleased.message}): the next run on this host takes it over once this ` +
          `process has exited; from another host, \`cardform force-unlock ${run.lockNotReleased.id}\`.`,
      ),
    )
  }
  if (r.interrupted) lines.push(style.warning('Interrupted: calls in flight were finished and recorded; run apply again to do the rest.'))
  if (failed.length) {
    // A refusal (4xx) comes back the same on a retry: the spec must change first. Anything else may pass next time,
    // a 429 (too many requests) included.
    const refused = failed.filter((o) => o.failure?.refused && o.failure.status !== 429)
    if (refused.length > 0) {
      lines.push(
        `The API refused ${refused.map((o) => o.address).join(', ')}: running apply again sends the same request, so fix the spec (see the message above) first.`,
      )
    }
    // After a failed state write the recovery above says what to do: not every finished step is recorded.
    if (refused.length < failed.length && !notWritten) lines.push('Run apply again to retry the others: finished steps are recorded in state and are not repeated.')
  }
  return lines.join('\n') + '\n'
}

/**
 * The cards made or changed at WeChat Pay that the state does not record, each with its card_id and out_request_no,
 * and how the next run finds them: what a person needs to recover after the state could not be written.
 */
function renderUnrecorded(failure: StateWriteFailure, style: Style): string[] {
  const cards = failure.unrecorded
  const lines: string[] = []
  if (cards.length === 0) {
    lines.push('No card was changed at WeChat Pay without being recorded in state.')
  } else {
    lines.push(style.error(`Changed at WeChat Pay but not recorded in state (${cards.length}):`))
    for (const c of cards) lines.push(`  ${describeUnrecorded(c)}`)
  }
  lines.push(
    'To recover: make the state writable again (free space on its disk, fix its permissions or mount, or bring the database back), ' +
      'then run `cardform apply`.' +
      (cards.some((c) => c.change === 'created' && c.recorded === 'creating')
        ? ' A create that state records as in progress is repeated with the same out_request_no, and WeChat Pay answers with the card it already made: none is made twice.'
        : '') +
      (cards.some((c) => c.change === 'changed' || c.change === 'removed') ? ' The refresh finds the changes and removals above.' : ''),
  )
  const adopt = cards.filter((c) => (c.change === 'created' || c.change === 'imported') && c.recorded === 'absent')
  if (adopt.length > 0) {
    lines.push(`State holds nothing that leads to ${adopt.map((c) => c.address).join(', ')}: adopt ${adopt.length === 1 ? 'it' : 'each'} with \`cardform import ADDRESS CARD_ID\` before that apply:`)
    for (const c of adopt) lines.push(`  cardform import ${c.address} ${c.remote_id}`)
  }
  return lines
}

function describeUnrecorded(c: UnrecordedCard): string {
  const orn = c.out_request_no && c.out_request_no !== 'imported' ? ` (out_request_no ${c.out_request_no})` : ''
  switch (c.change) {
    case 'created':
      return `${c.address}: created card ${c.remote_id}${orn}; state has ${c.recorded === 'creating' ? 'its create in progress' : c.recorded === 'created' ? 'the card it replaced' : 'nothing'}`
    case 'imported':
      return `${c.address}: imported card ${c.remote_id}; state has ${c.recorded === 'absent' ? 'nothing' : 'another card'}`
    case 'changed':
      return `${c.address}: ${c.action === 'replace' ? 'replaced' : 'changed'} card ${c.remote_id}${orn}; state has its earlier values`
    case 'removed':
      return `${c.address}: ${c.action === 'forget' ? 'forgotten' : 'removed'} card ${c.remote_id}; state still has it`
  }
}
