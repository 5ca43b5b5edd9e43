import {Flags} from '@oclif/core'
import {EngineCommand, excludeFlag, lockTimeoutFlag, parallelismFlag, parseDuration, progressFlag, refreshOnlyFlag, targetFlag, trueFalseFlag} from '../engine-command.js'
import type {Plan} from '../../engine/model/plan.js'

export default class PlanCommand extends EngineCommand {
  static override summary = 'Show what apply would change: create, update, replace, delete, invalidate, import, move or forget cards.'
  static override description = `Reads the card specs, the state and (unless --refresh=false) every live card, and prints the plan: \
irreversible and destructive changes first, then drift (changes made outside cardform), then each card's field changes.

With --target/--exclude, only the matching cards are read and planned. With --refresh-only, only the live cards' \
differences from state are shown (no change to the cards is planned); apply --refresh-only records them in state.

Exit status: 0 success (with --detailed-exitcode: 0 no changes, 2 changes, or with --refresh-only 2 drift), 1 error.
With --json, prints the plan document (schemas/plan.schema.json). With --markdown, prints a pull-request comment; \
when it is longer than 65,000 characters it is split into parts separated by a line <!-- cardform:split -->.

With --html FILE, also writes the plan as one self-contained web page for reviewers: every changed card's face \
before and after side by side (colour, pictures, title, level, the entries of the card page), then its field changes. \
Images are embedded from local files, or fetched (2 s, 2 MiB at most) and drawn as a placeholder when not reachable.`

  static override examples = [
    {description: 'Plan the project in the current directory.', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Save the plan for a later apply of exactly these changes.', command: '<%= config.bin %> <%= command.id %> --out plan.json'},
    {description: 'CI: fail the job when there is drift or a pending change.', command: '<%= config.bin %> <%= command.id %> --detailed-exitcode'},
    {description: 'A pull-request comment.', command: '<%= config.bin %> <%= command.id %> --markdown > comment.md'},
    {description: 'A page showing each changed card before and after, for a reviewer.', command: '<%= config.bin %> <%= command.id %> --html plan.html'},
    {description: 'Plan only the fitness brand cards.', command: "<%= config.bin %> <%= command.id %> --target 'BrandMemberCard.fitness-*'"},
    {description: 'CI: fail when a card was changed outside cardform.', command: '<%= config.bin %> <%= command.id %> --refresh-only --detailed-exitcode'},
  ]

  static override enableJsonFlag = true

  static override flags = {
    out: Flags.string({description: 'Save the plan to this file; `cardform apply FILE` then applies exactly it. A plan with errors is not saved.'}),
    markdown: Flags.boolean({description: 'Print the plan as a pull-request comment (Markdown).', exclusive: ['json']}),
    html: Flags.string({description: 'Also write the plan as a self-contained HTML page (card faces before and after, field changes) to this file.', helpValue: 'FILE'}),
    'detailed-exitcode': Flags.boolean({description: 'Exit 0 when there are no changes, 2 when there are, 1 on error.'}),
    'no-delete': Flags.boolean({description: 'Plan no deletion, invalidation or replacement: such changes are listed as skipped (as apply --no-delete does).'}),
    refresh: trueFalseFlag('Read every live card first (drift detection); --refresh=false plans against state only', true),
    'refresh-only': refreshOnlyFlag,
    target: targetFlag,
    exclude: excludeFlag,
    parallelism: parallelismFlag,
    lock: trueFalseFlag('Hold the state lock while planning; --lock=false skips it (read-only, may race an apply)', true),
    'lock-timeout': lockTimeoutFlag,
    progress: progressFlag,
  }

  async run(): Promise<Plan | undefined> {
    const {flags} = await this.parse(PlanCommand)
    const scope = await this.planScope(flags)
    const progress = await this.progressDisplay(flags)
    const run = await this.withWorkspace(flags.dir, async (ws) => {
      const {runPlan} = await import('../../engine/operations.js')
      const run = await runPlan(ws, {
        onRefreshProgress: (p) => progress.update('Refreshing', p),
        refresh: flags.refresh,
        ...(flags['no-delete'] ? {noDelete: true} : {}),
        parallelism: flags.parallelism,
        lock: flags.lock,
        lockTimeoutMs: parseDuration(flags['lock-timeout']),
        ...(flags.out ? {out: flags.out} : {}),
        ...scope,
      })
      return {...run, dir: ws.dir}
    }).finally(() => progress.stop())
    if (!run) return undefined
    const {plan} = run
    if (flags.markdown) {
      const {renderPlanMarkdown} = await import('../render/plan-markdown.js')
      this.log(renderPlanMarkdown(plan).join('\n<!-- cardform:split -->\n'))
    } else if (!this.jsonEnabled()) {
      const {renderPlanHuman} = await import('../render/plan-human.js')
      process.stdout.write(renderPlanHuman(plan, this.styleFor(flags)))
      const refreshOnly = flags['refresh-only'] ? '--refresh-only ' : ''
      if (run.savedTo) this.log(`\nSaved the plan to ${run.savedTo}. Apply exactly it with: cardform apply ${refreshOnly}${run.savedTo}`)
    }
    if (flags.html) {
      const {buildPlanHtml, writePlanHtml} = await import('../report/visual-plan.js')
      await writePlanHtml(flags.html, await buildPlanHtml({...run, projectDir: run.dir}))
      process.stderr.write(`Wrote the visual plan to ${flags.html}\n`)
    }
    if (flags.out && !run.savedTo) {
      this.printDiagnostics([{severity: 'error', code: 'plan-has-errors', message: `the plan has errors; it was not saved to ${flags.out}`}])
    }
    // Set only now, after all output is written: the process exits with it once stdout has drained.
    process.exitCode = !plan.applyable ? 1 : flags['detailed-exitcode'] && plan.has_changes ? 2 : 0
    return plan
  }
}
