import {Args, Flags} from '@oclif/core'
import {BaseCommand, EXIT} from '../base-command.js'

/** Schemas of cardform's own files and documents, by the name `cardform schema NAME` takes. */
const DOCUMENT_SCHEMAS = {
  config: ['config.schema.json', 'cardform.yaml, the project configuration'],
  plan: ['plan.schema.json', 'the plan document (plan --json)'],
  apply: ['apply.schema.json', 'the apply result document (apply --json)'],
  state: ['state.schema.json', 'the state document'],
  diagnostics: ['diagnostics.schema.json', 'the diagnostics document (validate --json)'],
  error: ['error.schema.json', 'the error document any --json command prints when it fails'],
} as const

export default class Schema extends BaseCommand {
  static override summary = 'Print the JSON Schema of a card kind or of a cardform document; copy them into the project for editors.'
  static override description = `With NAME, prints that JSON Schema (the one validate uses) on standard output: a card kind \\
(MemberCard…), or config (cardform.yaml), plan, apply, state, diagnostics, error. Without NAME, lists them.

With --write, copies every schema into the project's schemas/ folder, so a spec's \\
"# yaml-language-server: $schema=../schemas/member-card.schema.json" line resolves wherever the project is checked out.`

  static override examples = [
    {description: 'List the card kinds and document schemas.', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Save the MemberCard schema for an editor.', command: '<%= config.bin %> <%= command.id %> MemberCard > member-card.schema.json'},
    {description: 'The schema of cardform.yaml.', command: '<%= config.bin %> <%= command.id %> config'},
    {description: 'Copy every schema into the project (schemas/) for $schema lines.', command: '<%= config.bin %> <%= command.id %> --write'},
  ]

  static override args = {
    name: Args.string({description: 'Card kind (e.g. MemberCard), or config, plan, apply, state, diagnostics, error.', required: false}),
  }

  static override flags = {
    write: Flags.boolean({description: "Copy every schema into the project's schemas/ folder (-C), for editors' $schema lines."}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Schema)
    if (flags.write) {
      if (args.name !== undefined) this.error('--write copies every schema; give no NAME with it', {exit: EXIT.usage})
      const {writeProjectSchemas} = await import('../../engine/spec/project-schemas.js')
      const written = await writeProjectSchemas(flags.dir)
      this.log(written.length === 0 ? 'The schemas in schemas/ are up to date.' : `Wrote ${written.join(', ')}.`)
      return
    }
    const {KIND_FILES, KIND_NAMES, loadKindSchemas} = await import('../../engine/model/schema-semantics.js')
    const {didYouMean} = await import('../../engine/spec/did-you-mean.js')
    const schemas = loadKindSchemas()
    const documents = Object.keys(DOCUMENT_SCHEMAS) as Array<keyof typeof DOCUMENT_SCHEMAS>
    if (args.name === undefined) {
      const rows: Array<[string, string, string]> = [
        ...KIND_NAMES.map((k): [string, string, string] => [k, KIND_FILES[k], firstSentence(schemas[k].description)]),
        ...documents.map((d): [string, string, string] => [d, DOCUMENT_SCHEMAS[d][0], `The schema of ${DOCUMENT_SCHEMAS[d][1]}.`]),
      ]
      const width = Math.max(...rows.map((r) => r[0].length))
      const fileWidth = Math.max(...rows.map((r) => r[1].length)) + 'schemas/'.length
      for (const [name, file, text] of rows) this.log(`${name.padEnd(width)}  ${`schemas/${file}`.padEnd(fileWidth)}  ${text}`)
      return
    }
    const kind = KIND_NAMES.find((k) => k === args.name)
    if (kind !== undefined) {
      this.log(JSON.stringify(schemas[kind], null, 2))
      return
    }
    const document = documents.find((d) => d === args.name)
    if (document === undefined) {
      const names = [...KIND_NAMES, ...documents]
      this.error(`unknown schema "${args.name}"${didYouMean(args.name, names)}; the schemas are ${names.join(', ')}`, {exit: EXIT.usage})
    }
    const [{readFileSync}, path, {schemasDir}] = await Promise.all([import('node:fs'), import('node:path'), import('../../engine/paths.js')])
    this.log(JSON.stringify(JSON.parse(readFileSync(path.join(schemasDir, DOCUMENT_SCHEMAS[document][0]), 'utf8')), null, 2))
  }
}

function firstSentence(text: unknown): string {
  if (typeof text !== 'string') return ''
  const end = text.search(/[.。](\s|$)/)
  return end === -1 ? text : text.slice(0, end + 1)
}
