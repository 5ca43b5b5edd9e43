import type {StatusReport} from '../../engine/review-status.js'
import {reviewLine} from './plan-common.js'
import type {Style} from './style.js'

/** `cardform status` for a person: one line per reviewed card, then the verdict. Pure: (report, style) → text. */
export function renderStatusHuman(report: StatusReport, style: Style): string {
  const out: string[] = []
  for (const c of report.cards) {
    const color = c.status === 'failed' ? style.removed : c.status === 'in-review' ? style.warning : style.added
    out.push(color(`  ${reviewLine(c)}`))
  }
  if (out.length) out.push('')
  const count = (s: string) => report.cards.filter((c) => c.status === s).length
  const summary = `${count('approved')} approved, ${count('in-review')} in review, ${count('failed')} failed review`
  if (report.cards.length === 0) out.push(style.bold('No card in state goes through WeChat Pay review (审核).'))
  else if (report.health === 'approved') out.push(style.bold(`Healthy: every card is approved (${summary}).`))
  else if (report.health === 'failed') out.push(style.removed(`Review failed: ${summary}. Fix the cards named above and apply again.`))
  else if (report.timed_out) out.push(style.warning(`Timed out waiting for review: ${summary}.`))
  else out.push(style.warning(`In review: ${summary}. cardform status --wait waits for the decision.`))
  return out.join('\n') + '\n'
}
