import {BaseCommand, EXIT} from '../base-command.js'
import {variableFlags, variableInputs} from '../engine-command.js'
import {renderValidation, toDiagnosticsDocument, type DiagnosticsDocument} from '../render/diagnostics.js'

export default class Validate extends BaseCommand {
  static override summary = 'Check the project’s card specs against the card schemas.'
  static override description = `Reads cardform.yaml and every *.yaml/*.yml under its cards directory, and reports every problem at once \
as file:line:column: error[code]: message. Nothing is sent to WeChat Pay.

Exit status: 0 when valid, 1 when there are errors, 2 for a wrong command line.
With --json, prints the diagnostics document (format_version 1.0, described by schemas/diagnostics.schema.json).`

  static override examples = [
    {description: 'Validate the project in the current directory.', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Validate another project.', command: '<%= config.bin %> <%= command.id %> -C examples/quickstart'},
    {description: 'Machine-readable diagnostics for CI.', command: '<%= config.bin %> <%= command.id %> --json'},
    {description: 'Validate with the production values of ${var.NAME}.', command: '<%= config.bin %> <%= command.id %> --var-file envs/prod.yaml'},
  ]

  static override enableJsonFlag = true

  static override flags = {...variableFlags}

  async run(): Promise<DiagnosticsDocument> {
    const {flags} = await this.parse(Validate)
    // Imported here so `cardform --version` and `--help` never load yaml and ajv.
    const {loadProject} = await import('../../engine/spec/load-project.js')
    // Only the diagnostics are reported, so the documents are not kept: memory stays flat however many cards there are.
    const project = await loadProject(flags.dir, {variables: variableInputs(flags), keepDocuments: false})
    const document = toDiagnosticsDocument(project.diagnostics)
    if (!document.valid) process.exitCode = EXIT.invalid
    if (!this.jsonEnabled()) {
      this.log(renderValidation(project.diagnostics, {documents: project.documentCount, files: project.files.length}, this.styleFor(flags)))
    }
    return document
  }
}
