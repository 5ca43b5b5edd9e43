import {EngineCommand} from '../../engine-command.js'
import type {StateDocument} from '../../../engine/model/state.js'

export default class StateList extends EngineCommand {
  static override summary = 'List the cards recorded in state, with their card ids.'
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json']
  static override enableJsonFlag = true

  async run(): Promise<StateDocument | null | undefined> {
    const {flags} = await this.parse(StateList)
    return this.withWorkspace(flags, async (ws) => {
      const state = await ws.store.read()
      if (!this.jsonEnabled()) {
        if (!state) this.log(`No state yet at ${ws.store.location}.`)
        else {
          for (const [address, r] of Object.entries(state.resources).sort()) {
            this.log(`${address}\t${r.remote_id ?? '(creating)'}\t${r.status}${r.deposed ? `\tdeposed ${r.deposed}` : ''}`)
          }
          this.log(`# serial ${state.serial}, lineage ${state.lineage}`)
        }
      }
      return state
    })
  }
}
