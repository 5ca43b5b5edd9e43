import {Args, Flags} from '@oclif/core'
import {EngineCommand, lockTimeoutFlag, parseDuration} from '../../engine-command.js'

export default class StateMv extends EngineCommand {
  static override summary = 'Move a card to another address in state, e.g. after renaming its spec, without touching it.'
  static override description = `Renames a card's address in state (Terraform's state mv): the entry moves from FROM to TO with its \
generation count, and no WeChat Pay API is called. Rename the spec's metadata.name to match and the next plan finds the card \
unchanged, instead of deleting it and creating a new one. Both addresses are Kind.name of the same kind; TO must not \
be in state yet.`

  static override examples = [
    {description: 'After renaming metadata.name from coffee-member to coffee-gold.', command: '<%= config.bin %> <%= command.id %> MemberCard.coffee-member MemberCard.coffee-gold'},
    {description: 'Show what would move, changing nothing.', command: '<%= config.bin %> <%= command.id %> --dry-run MemberCard.coffee-member MemberCard.coffee-gold'},
  ]

  static override args = {
    from: Args.string({description: 'The card address now, Kind.name.', required: true}),
    to: Args.string({description: 'The new address, Kind.name (same kind).', required: true}),
  }

  static override flags = {
    'dry-run': Flags.boolean({description: 'Print what would move; change nothing.'}),
    'lock-timeout': lockTimeoutFlag,
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(StateMv)
    await this.withWorkspace(flags, async (ws) => {
      const {moveAddress} = await import('../../../engine/state/move-address.js')
      const lock = await ws.store.lock('state mv', parseDuration(flags['lock-timeout']))
      try {
        const {state, moved} = moveAddress(await ws.store.read(), args.from, args.to)
        const card = `card ${moved.remote_id ?? 'not yet created'}`
        if (flags['dry-run']) {
          this.log(`Would move ${args.from} (${card}) to ${args.to}. Nothing was changed (--dry-run).`)
          return
        }
        state.serial += 1
        await ws.store.write(state)
        this.log(`Moved ${args.from} (${card}) to ${args.to} in state; the live card was not touched.`)
        this.log(`Rename the spec's metadata.name to "${moved.name}" so that the next plan finds it there.`)
      } finally {
        await ws.store.unlock(lock.id)
      }
    })
  }
}
