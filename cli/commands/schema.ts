import {Args} from '@oclif/core'
import {BaseCommand, EXIT} from '../base-command.js'

export default class Schema extends BaseCommand {
  static override summary = 'Print the JSON Schema of a card kind.'
  static override description = `With KIND, prints that kind's JSON Schema (the one validate uses) on standard output. \
Without KIND, lists the kinds and their schema files. The schemas also live in the package's schemas/ folder.`

  static override examples = [
    {description: 'List the card kinds.', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Save the MemberCard schema for an editor.', command: '<%= config.bin %> <%= command.id %> MemberCard > member-card.schema.json'},
  ]

  static override args = {
    kind: Args.string({description: 'Card kind, e.g. MemberCard.', required: false}),
  }

  async run(): Promise<void> {
    const {args} = await this.parse(Schema)
    const {KIND_FILES, KIND_NAMES, loadKindSchemas} = await import('../../engine/model/schema-semantics.js')
    const {didYouMean} = await import('../../engine/spec/did-you-mean.js')
    const schemas = loadKindSchemas()
    if (args.kind === undefined) {
      const width = Math.max(...KIND_NAMES.map((k) => k.length))
      const fileWidth = Math.max(...KIND_NAMES.map((k) => KIND_FILES[k].length)) + 'schemas/'.length
      for (const kind of KIND_NAMES) {
        this.log(`${kind.padEnd(width)}  ${`schemas/${KIND_FILES[kind]}`.padEnd(fileWidth)}  ${firstSentence(schemas[kind].description)}`)
      }
      return
    }
    const kind = KIND_NAMES.find((k) => k === args.kind)
    if (kind === undefined) {
      this.error(`unknown kind "${args.kind}"${didYouMean(args.kind, KIND_NAMES)}; the kinds are ${KIND_NAMES.join(', ')}`, {
        exit: EXIT.usage,
      })
    }
    this.log(JSON.stringify(schemas[kind], null, 2))
  }
}

function firstSentence(text: unknown): string {
  if (typeof text !== 'string') return ''
  const end = text.search(/[.。](\s|$)/)
  return end === -1 ? text : text.slice(0, end + 1)
}
