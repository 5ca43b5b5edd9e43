import {Args} from '@oclif/core'
import {EngineCommand} from '../engine-command.js'

export default class ForceUnlock extends EngineCommand {
  static override summary = 'Remove a state lock left by a run that is gone.'
  static override description = `Only for a lock whose holder is no longer running: the error that names the holder gives its ID. \
Removing the lock of a run that is still applying lets two applies race. A lock left by a killed process on this \
host is released automatically.`

  static override examples = ['<%= config.bin %> <%= command.id %> 6f1c2e9a-0b4d-4c1e-9a57-2f8e3d1c0b7a']

  static override args = {id: Args.string({description: 'The lock ID named by the lock error.', required: true})}

  async run(): Promise<void> {
    const {args, flags} = await this.parse(ForceUnlock)
    await this.withWorkspace(flags, async (ws) => {
      const {describeLock} = await import('../../engine/state/errors.js')
      const holder = await ws.store.forceUnlock(args.id)
      this.log(`Removed ${describeLock(holder)}.`)
    })
  }
}
