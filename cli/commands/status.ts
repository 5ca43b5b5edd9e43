import {Flags} from '@oclif/core'
import {EngineCommand, excludeFlag, parallelismFlag, parseDuration, targetFlag} from '../engine-command.js'
import type {StatusReport} from '../../engine/review-status.js'

/** Exit status: 0 every card approved, 1 a card failed review (or an error), 3 cards still in review. */
export const STATUS_EXIT = {approved: 0, failed: 1, inReview: 3} as const

export default class StatusCommand extends EngineCommand {
  static override summary = 'Show the WeChat Pay review (审核) status of the applied cards; --wait waits until they are approved.'
  static override description = `WeChat Pay reviews a created or edited membercard-open card template: it is NOT_APPROVE (in review) \
until approved, or APPROVE_FAIL (failed review; the API gives no reason). This reads every card in state (list pages \
where cheaper than one GET per card) and prints each one's review status: the health check a pipeline runs after apply. \
Kinds without review (BrandMemberCard, AggregatorMemberCard) are not listed. Nothing is changed, and no lock is taken.

Exit status: 0 every card is approved, 1 a card failed review (or an error), 3 cards are still in review (without \
--wait, or when --timeout passed). With --wait, the cards still in review are read again every --interval until none \
is, one fails, or --timeout passes.`

  static override examples = [
    {description: 'Review status of every applied card.', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'CI, after apply: wait up to 10 minutes for approval.', command: '<%= config.bin %> <%= command.id %> --wait --timeout 10m'},
  ]

  static override enableJsonFlag = true

  static override flags = {
    wait: Flags.boolean({description: 'Wait until no card is in review (or one fails, or --timeout passes).'}),
    timeout: Flags.string({description: 'With --wait: give up after this long (e.g. 30s, 10m).', default: '10m'}),
    interval: Flags.string({description: 'With --wait: read the cards in review again this often (e.g. 5s).', default: '5s'}),
    target: targetFlag,
    exclude: excludeFlag,
    parallelism: parallelismFlag,
  }

  async run(): Promise<StatusReport | undefined> {
    const {flags} = await this.parse(StatusCommand)
    const scope = await this.planScope(flags)
    const wait = flags.wait ? {timeoutMs: parseDuration(flags.timeout), intervalMs: Math.max(1, parseDuration(flags.interval))} : undefined
    const report = await this.withWorkspace(flags, async (ws) => {
      const {readReviewStatus} = await import('../../engine/review-status.js')
      return readReviewStatus(ws, {...scope, parallelism: flags.parallelism, ...(wait ? {wait} : {})})
    })
    if (!report) return undefined
    this.printDiagnostics(report.diagnostics)
    if (!this.jsonEnabled()) {
      const {renderStatusHuman} = await import('../render/status-human.js')
      process.stdout.write(renderStatusHuman(report, this.styleFor(flags)))
    }
    const unreadable = report.diagnostics.some((d) => d.severity === 'error')
    process.exitCode = unreadable || report.health === 'failed' ? STATUS_EXIT.failed : report.health === 'in-review' ? STATUS_EXIT.inReview : STATUS_EXIT.approved
    return report
  }
}
