import {Args} from '@oclif/core'
import {EngineCommand} from '../../engine-command.js'
import type {ResourceState} from '../../../engine/model/state.js'

export default class StateShow extends EngineCommand {
  static override summary = 'Show what the state records for one card: card id, out_request_no, last-applied spec.'
  static override description = `Prints the state entry of one card as JSON: its card_id, status, out_request_no and generation, the spec \
applied last time, the values GET cannot return (rights…), and the fingerprint of the live card. Nothing is read from \
WeChat Pay.`
  static override examples = ['<%= config.bin %> <%= command.id %> MemberCard.coffee-member']
  static override args = {address: Args.string({description: 'The card address, Kind.name.', required: true})}

  async run(): Promise<ResourceState | undefined> {
    const {args, flags} = await this.parse(StateShow)
    return this.withWorkspace(flags, async (ws) => {
      const r = (await ws.store.read())?.resources[args.address]
      if (!r) {
        this.logToStderr(`error[state-not-found]: ${args.address} is not in state (see \`cardform state list\`)`)
        process.exitCode = 1
        return undefined
      }
      this.log(JSON.stringify(r, null, 2))
      return r
    })
  }
}
