import {Args} from '@oclif/core'
import {EngineCommand, lockTimeoutFlag, parseDuration} from '../engine-command.js'

export default class ImportCommand extends EngineCommand {
  static override summary = 'Adopt an existing card: record it in state under ADDRESS without touching it.'
  static override description = `The card (made in the merchant console or by a script) keeps existing as it is; cardform records it at \
ADDRESS, whose spec must already be in the project. Run \`cardform plan\` next: it shows every field where the spec and \
the card differ. Fields GET cannot return (the rights block, need_dynamic_code) start unrecorded, so the next plan sends \
the spec's values for them.

To review an import in a pull request instead, set metadata.import_id: CARD_ID in the card's document: plan shows \
\`= import\` and apply records it. To find cards to import and write their specs, use \`cardform query --out DIR\`.`
  static override examples = ['<%= config.bin %> <%= command.id %> MemberCard.coffee-member pXkn0ZsZ2ftGq8WDJYE6ZPdQ7VdA']
  static override args = {
    address: Args.string({description: 'The card address, Kind.name; its spec must be in the project.', required: true}),
    card_id: Args.string({description: 'The card_id of the existing card.', required: true}),
  }
  static override flags = {'lock-timeout': lockTimeoutFlag}

  async run(): Promise<void> {
    const {args, flags} = await this.parse(ImportCommand)
    await this.withWorkspace(flags, async (ws) => {
      const {importCard} = await import('../../engine/adopt/import-card.js')
      const result = await importCard(ws, args.address, args.card_id, parseDuration(flags['lock-timeout']))
      this.log(`Imported card ${result.cardId} as ${result.address} (state serial ${result.state.serial}); the card was not changed.`)
      this.log('Run `cardform plan` to see where the spec and the card differ.')
    })
  }
}
