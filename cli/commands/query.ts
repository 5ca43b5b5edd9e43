import {Flags} from '@oclif/core'
import {EXIT} from '../base-command.js'
import {EngineCommand} from '../engine-command.js'
import type {QueryResult} from '../../engine/adopt/query-live.js'

export default class Query extends EngineCommand {
  static override summary = 'Find live cards cardform does not manage (made in the merchant console) and write specs that adopt them.'
  static override description = `Lists every card of every API family that has a list call (membercard-open for the merchant; the \
brand partner family for each brand_id named by --brand-id, the specs or the state), and reports the live cards no \
state entry or spec accounts for. Deleted and invalidated cards are skipped; AggregatorMemberCard cards cannot be listed.

With --out DIR, writes one spec per card to DIR/<Kind>/<name>.yaml (relative to the current directory), built from the \
live card and naming it in metadata.import_id, so plan shows it as an import. An existing file is never overwritten. \
Only list calls are made: nothing is changed.`

  static override examples = [
    {description: 'What is live but not managed by cardform?', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Write a spec for each into cards/imported.', command: '<%= config.bin %> <%= command.id %> --out cards/imported'},
    {description: 'Brand partner cards of a brand no spec names yet.', command: '<%= config.bin %> <%= command.id %> --kind BrandMemberCard --brand-id 1004582931'},
  ]

  static override enableJsonFlag = true

  static override flags = {
    kind: Flags.string({description: 'Only cards of this kind (MemberCard, BrandMemberCard).'}),
    out: Flags.string({description: 'Write DIR/<Kind>/<name>.yaml for each card found; existing files are left alone.', helpValue: 'DIR'}),
    'brand-id': Flags.string({description: 'Also list the brand partner cards of this brand (repeatable).', multiple: true, helpValue: 'ID'}),
  }

  async run(): Promise<QueryResult | undefined> {
    const {flags} = await this.parse(Query)
    const kinds = flags.kind === undefined ? undefined : [await this.knownKind(flags.kind)]
    const result = await this.withWorkspace(flags, async (ws) => {
      const {queryLive} = await import('../../engine/adopt/query-live.js')
      return queryLive(ws, {
        ...(kinds ? {kinds} : {}),
        ...(flags['brand-id'] ? {brandIds: flags['brand-id']} : {}),
        ...(flags.out !== undefined ? {out: flags.out} : {}),
      })
    })
    if (!result) return undefined
    if (!this.jsonEnabled()) {
      const {renderQueryHuman} = await import('../render/query-human.js')
      this.printDiagnostics(result.warnings)
      process.stdout.write(renderQueryHuman(result, flags.out !== undefined ? {out: flags.out} : {}, this.styleFor(flags)))
    }
    return result
  }

  private async knownKind(kind: string): Promise<string> {
    const {KIND_NAMES} = await import('../../engine/model/schema-semantics.js')
    const {didYouMean} = await import('../../engine/spec/did-you-mean.js')
    if ((KIND_NAMES as readonly string[]).includes(kind)) return kind
    this.error(`unknown kind "${kind}"${didYouMean(kind, KIND_NAMES)}; the kinds are ${KIND_NAMES.join(', ')}`, {exit: EXIT.usage})
  }
}
