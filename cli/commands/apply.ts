import {Args, Flags} from '@oclif/core'
import {EXIT} from '../base-command.js'
import {EngineCommand, excludeFlag, lockTimeoutFlag, parallelismFlag, parseDuration, progressFlag, refreshOnlyFlag, targetFlag, trueFalseFlag} from '../engine-command.js'
import type {Plan} from '../../engine/model/plan.js'
import type {ApplyDocument} from '../render/apply-json.js'

export default class ApplyCommand extends EngineCommand {
  static override summary = 'Make the live cards match the specs, or apply a saved plan exactly.'
  static override description = `Without FILE: plans, shows the plan, and asks for confirmation on a terminal (--auto-approve otherwise). \
With FILE (from plan --out): applies exactly that plan, and refuses when the state or any card it touches changed since.

Replacing, deleting or invalidating a card takes it away from every member who holds it: apply refuses unless \
--allow-destroy. Switching on balance or rights display can never be undone: apply refuses unless \
--allow-irreversible, or the change comes from a saved plan that showed it.

With --target/--exclude, only the matching cards are planned and applied. With --refresh-only, apply changes no \
card: it records the live values of cards changed outside cardform in state, and forgets cards deleted outside it.

State is saved after every remote call; an interrupted apply is completed by the next one. Exit status 0 when \
everything was applied and recorded in state, 1 otherwise (130 when interrupted, 2 for a wrong command line).
With --json, asks nothing (so it needs --auto-approve or FILE) and prints the apply result document \
(schemas/apply.schema.json) instead of the plan and progress lines.`

  static override examples = [
    {description: 'Plan, review and confirm interactively.', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'CI: apply the plan reviewed in the pull request.', command: '<%= config.bin %> <%= command.id %> plan.json'},
    {description: 'Non-interactive, including irreversible switches.', command: '<%= config.bin %> <%= command.id %> --auto-approve --allow-irreversible'},
    {description: 'Apply one card only.', command: '<%= config.bin %> <%= command.id %> --target MemberCard.coffee-member'},
    {description: 'Accept changes made in the merchant console into state.', command: '<%= config.bin %> <%= command.id %> --refresh-only --auto-approve'},
    {description: 'CI: apply a saved plan and keep a machine-readable result.', command: '<%= config.bin %> <%= command.id %> plan.json --json > apply.json'},
  ]

  static override enableJsonFlag = true

  static override args = {
    file: Args.string({description: 'A plan saved with `cardform plan --out FILE`.', required: false}),
  }

  static override flags = {
    'auto-approve': Flags.boolean({description: 'Do not ask for confirmation.'}),
    'allow-destroy': Flags.boolean({description: 'Allow replacing, deleting and invalidating cards.'}),
    'allow-irreversible': Flags.boolean({description: 'Allow switching on display that can never be switched off.'}),
    'no-delete': Flags.boolean({description: 'Never delete, invalidate or replace a card: cards removed from the config stay live and in state, listed as skipped.'}),
    'fail-fast': Flags.boolean({description: 'Stop starting new cards after the first failure.'}),
    refresh: trueFalseFlag('Read every live card before planning', true),
    'refresh-only': refreshOnlyFlag,
    target: targetFlag,
    exclude: excludeFlag,
    parallelism: parallelismFlag,
    'lock-timeout': lockTimeoutFlag,
    progress: progressFlag,
  }

  async run(): Promise<ApplyDocument | undefined> {
    const {args, flags} = await this.parse(ApplyCommand)
    const json = this.jsonEnabled()
    if (json && !flags['auto-approve'] && args.file === undefined) {
      this.error('apply --json asks no questions: pass --auto-approve, or apply a saved plan (apply FILE)', {exit: EXIT.usage, code: 'approval-required'})
    }
    const scope = await this.planScope(flags)
    const savedVariables = await this.savedPlanVariables(args.file, flags)
    const style = this.styleFor(flags)
    const progress = await this.progressDisplay(flags)
    const [{renderPlanHuman}, {renderApplyEvent, renderApplySummary}] = await Promise.all([
      import('../render/plan-human.js'),
      import('../render/apply-human.js'),
    ])
    // First Ctrl-C (or SIGTERM): start no new card, let calls in flight finish and be recorded, then summarise.
    // A second one exits at once; state is written after every call, so even that leaves it truthful.
    const interrupt = new AbortController()
    const onSignal = () => {
      if (interrupt.signal.aborted) {
        progress.stop()
        process.exit(130)
      }
      interrupt.abort()
      progress.log('\nInterrupt received: finishing the calls in flight, starting no new ones (again to quit now).', (l) => process.stderr.write(l + '\n'))
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
    const run = await this.withWorkspace(flags, async (ws) => {
      const {runApply} = await import('../../engine/operations.js')
      return runApply(ws, {
        ...(args.file ? {planFile: args.file} : {}),
        autoApprove: flags['auto-approve'],
        ...(process.stdin.isTTY && process.stdout.isTTY && !json ? {confirm: (plan: Plan) => this.confirm(plan)} : {}),
        onRefreshProgress: (p) => progress.update('Refreshing', p),
        onPlan: (plan) => {
          progress.stop()
          if (!json) process.stdout.write(renderPlanHuman(plan, style) + '\n')
        },
        allowDestroy: flags['allow-destroy'],
        allowIrreversible: flags['allow-irreversible'],
        ...(flags['no-delete'] ? {noDelete: true} : {}),
        parallelism: flags.parallelism,
        failFast: flags['fail-fast'],
        signal: interrupt.signal,
        lockTimeoutMs: parseDuration(flags['lock-timeout']),
        refresh: flags.refresh,
        ...scope,
        onEvent: (e) => {
          const line = json ? undefined : renderApplyEvent(e, style)
          if (line) progress.log(line)
        },
        onProgress: (p) => progress.update('Applying', p),
      })
    }, savedVariables).finally(() => progress.stop())
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    if (!run) return undefined
    // A state that could not be written fails the apply even when every card was changed: some may not be recorded.
    const failed = run.refused.length > 0 || (run.result?.failed ?? 0) > 0 || run.result?.stateWriteFailure !== undefined
    process.exitCode = run.result?.interrupted ? 130 : failed ? 1 : 0
    if (!json) {
      process.stdout.write(renderApplySummary(run, style))
      return undefined
    }
    const [{toApplyDocument}, {packageVersion}] = await Promise.all([import('../render/apply-json.js'), import('../../engine/providers/wechatpay/client.js')])
    return toApplyDocument(run, {savedPlan: args.file !== undefined, version: packageVersion()})
  }

  /**
   * A saved plan carries the variable values it was made with, and apply FILE reads cardform.yaml with them: other
   * values could not change the plan, only its backend or provider, so --var-file/--var are refused (as Terraform's
   * "Can't set variables when applying a saved plan").
   */
  private async savedPlanVariables(file: string | undefined, flags: {'var-file'?: string[] | undefined; var?: string[] | undefined}) {
    if (file === undefined) return undefined
    if ((flags['var-file']?.length ?? 0) > 0 || (flags.var?.length ?? 0) > 0) {
      this.error('a saved plan holds the variable values it was made with: --var-file and --var are for plan, not apply FILE', {exit: EXIT.usage, code: 'saved-plan-variables'})
    }
    const {readSavedPlanVariables} = await import('../../engine/plan/saved-plan.js')
    return readSavedPlanVariables(file)
  }

  private async confirm(plan: Plan): Promise<boolean> {
    const {createInterface} = await import('node:readline/promises')
    const rl = createInterface({input: process.stdin, output: process.stdout})
    try {
      const warn = plan.has_destructive || plan.has_irreversible ? ' Some changes cannot be undone (see above).' : ''
      const question = plan.mode === 'refresh-only' ? 'Do you want to record these live values in state?' : `Do you want to apply these changes?${warn}`
      const answer = await rl.question(`${question} Only 'yes' will be accepted: `)
      return answer.trim() === 'yes'
    } finally {
      rl.close()
    }
  }
}
