import {Args} from '@oclif/core'
import {EngineCommand, lockTimeoutFlag, parseDuration} from '../../engine-command.js'

export default class StateRm extends EngineCommand {
  static override summary = 'Stop managing a card: remove it from state without touching the live card.'
  static override description = `The card keeps existing in WeChat Pay; cardform forgets it. If its spec is still in the project, \
the next plan creates a new card for it.`
  static override examples = ['<%= config.bin %> <%= command.id %> MemberCard.coffee-member']
  static override args = {address: Args.string({description: 'The card address, Kind.name.', required: true})}
  static override flags = {'lock-timeout': lockTimeoutFlag}

  async run(): Promise<void> {
    const {args, flags} = await this.parse(StateRm)
    await this.withWorkspace(flags, async (ws) => {
      const lock = await ws.store.lock('state rm', parseDuration(flags['lock-timeout']))
      try {
        const state = await ws.store.read()
        const r = state?.resources[args.address]
        if (!state || !r) {
          this.logToStderr(`error[state-not-found]: ${args.address} is not in state`)
          process.exitCode = 1
          return
        }
        delete state.resources[args.address]
        state.serial += 1
        await ws.store.write(state)
        this.log(`Removed ${args.address} (card ${r.remote_id ?? 'not yet created'}) from state; the live card was not touched.`)
      } finally {
        await ws.store.unlock(lock.id)
      }
    })
  }
}
