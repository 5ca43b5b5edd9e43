import path from 'node:path'
import {Flags} from '@oclif/core'
import {BaseCommand, EXIT} from './base-command.js'
import {renderDiagnostic, toDiagnosticsDocument} from './render/diagnostics.js'
import {toErrorDocument} from './render/error-json.js'
import type {Diagnostic} from '../engine/model/diagnostic.js'
import type {PlanScope} from '../engine/operations.js'
import type {Workspace} from '../engine/workspace.js'
import type {ProgressDisplay} from './progress.js'

const REMOTE_CODES: Record<string, string> = {
  ApiError: 'api-error',
  RateLimitError: 'api-rate-limited',
  TransportError: 'transport-error',
  ResponseVerificationError: 'response-verification-failed',
  CredentialsError: 'credentials-invalid',
}

/** Parse `30s`, `2m`, `500ms` or a number of seconds into milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim())
  if (!m) throw new Error(`invalid duration "${text}": use e.g. 0s, 30s, 2m, 500ms`)
  const n = Number(m[1])
  return Math.round(m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000)
}

/** A boolean written as Terraform writes it: `--lock=false`, `--refresh=false` (or `--lock false`). */
export function trueFalseFlag(description: string, defaultValue: boolean) {
  return Flags.custom<boolean>({
    description,
    default: defaultValue,
    options: ['true', 'false'],
    parse: async (input) => input === 'true',
  })()
}

export const lockTimeoutFlag = Flags.string({
  description: 'How long to wait for the state lock held by another run before failing (e.g. 30s, 2m).',
  default: '0s',
})

export const parallelismFlag = Flags.integer({
  description: 'How many cards are read or changed at once (requests are also paced by the rate limiter).',
  default: 10,
  min: 1,
  max: 100,
})

/** `--target ADDR` / `--exclude ADDR`: repeatable `Kind.glob` patterns (checked by EngineCommand.planScope). */
function addressPatternFlag(description: string) {
  return Flags.string({
    description,
    multiple: true,
    // One value per flag, so `apply --target X plan.json` never takes the file for a second pattern.
    multipleNonGreedy: true,
    helpValue: 'Kind.name',
  })
}

export const targetFlag = addressPatternFlag(
  'Plan only the cards whose address matches (Kind.name; * and ? as wildcards; repeatable). For exceptional situations, not routine use.',
)

export const excludeFlag = addressPatternFlag('Leave out the cards whose address matches (Kind.name; * and ? as wildcards; repeatable).')

/** `--no-progress`: no progress bar even on a terminal (it is never drawn in CI, with --json or --markdown, or when output is redirected). */
export const progressFlag = Flags.boolean({
  description: 'Show cards done, requests/s and time left on a terminal (not in CI, with --json or --markdown, or when output is redirected); --no-progress turns it off.',
  allowNo: true,
})

export const refreshOnlyFlag = Flags.boolean({
  description: 'Only read the live cards and show how they differ from state; apply --refresh-only records the live values in state, with no API write.',
})

/**
 * `--var-file FILE` and `--var NAME=VALUE`: the values of `${var.NAME}` in the specs and cardform.yaml, on every
 * command that reads the project (a backend or provider setting may use them too). Both repeatable; later wins.
 */
export const variableFlags = {
  'var-file': Flags.string({
    description: 'Read ${var.NAME} values from this YAML file (NAME: value; repeatable, later files win).',
    multiple: true,
    multipleNonGreedy: true,
    helpValue: 'FILE',
  }),
  var: Flags.string({
    description: 'Set ${var.NAME} (repeatable; wins over --var-file). VALUE is read as YAML: 5 is a number, true a boolean.',
    multiple: true,
    multipleNonGreedy: true,
    helpValue: 'NAME=VALUE',
  }),
}

/** The flags that say which project to read and with which variables. */
export interface ProjectFlags {
  dir: string
  'var-file'?: string[] | undefined
  var?: string[] | undefined
}

/**
 * --var-file and --var as the loader takes them. A var file is relative to the working directory, as --out and
 * apply FILE are (not to -C); diagnostics name it relative to the project directory, as they name spec files.
 */
export function variableInputs(flags: ProjectFlags): {files: string[]; assignments: string[]} {
  return {files: (flags['var-file'] ?? []).map((file) => path.resolve(file)), assignments: flags.var ?? []}
}

/**
 * A command that opens the project (specs, state, API). Spec problems are printed as diagnostics; setup and remote
 * problems as one `error[code]: message` line. Exit status 1 for both.
 */
export abstract class EngineCommand extends BaseCommand {
  static override baseFlags = {...BaseCommand.baseFlags, ...variableFlags}

  /**
   * Opens the project and runs `body` with it. Spec problems are printed (errors stop here, exit 1, and with --json
   * as the diagnostics document on standard output; warnings such as var-unused go to standard error and the command
   * goes on). `resolvedVariables` replaces --var-file/--var
   * (apply FILE reads the project with the values its plan was made with).
   */
  protected async withWorkspace<T>(
    flags: ProjectFlags,
    body: (ws: Workspace) => Promise<T>,
    resolvedVariables?: Record<string, string | number | boolean>,
  ): Promise<T | undefined> {
    const {openWorkspace} = await import('../engine/workspace.js')
    const {workspace, diagnostics} = await openWorkspace(flags.dir, resolvedVariables ? {resolvedVariables} : {variables: variableInputs(flags)})
    if (!workspace) {
      // With --json, standard output stays one JSON document: the diagnostics document validate --json prints.
      if (this.jsonEnabled()) this.logJson(toDiagnosticsDocument(diagnostics))
      else this.printDiagnostics(diagnostics)
      process.exitCode = 1
      return undefined
    }
    this.printDiagnostics(diagnostics.filter((d) => d.severity === 'warning'))
    try {
      return await body(workspace)
    } finally {
      await workspace.close()
    }
  }

  /** --target, --exclude and --refresh-only as the engine takes them; a malformed pattern is a usage error (exit 2). */
  protected async planScope(flags: {target?: string[] | undefined; exclude?: string[] | undefined; 'refresh-only'?: boolean; refresh?: boolean}): Promise<PlanScope> {
    const {patternProblem} = await import('../engine/plan/targeting.js')
    for (const [flag, patterns] of [['--target', flags.target], ['--exclude', flags.exclude]] as const) {
      for (const p of patterns ?? []) {
        const problem = patternProblem(p)
        if (problem) this.error(`${flag} ${problem}`, {exit: EXIT.usage})
      }
    }
    if (flags['refresh-only'] && flags.refresh === false) {
      this.error('--refresh-only reads the live cards: it cannot be combined with --refresh=false', {exit: EXIT.usage})
    }
    return {
      ...(flags.target?.length ? {targets: flags.target} : {}),
      ...(flags.exclude?.length ? {excludes: flags.exclude} : {}),
      ...(flags['refresh-only'] ? {mode: 'refresh-only' as const} : {}),
    }
  }

  /** The progress display for this run: drawn only for a person at a terminal (see showProgress). */
  protected async progressDisplay(flags: {progress?: boolean | undefined; markdown?: boolean | undefined}): Promise<ProgressDisplay> {
    const {ProgressDisplay, showProgress} = await import('./progress.js')
    return new ProgressDisplay(
      showProgress({
        flag: flags.progress,
        machineOutput: this.jsonEnabled() || flags.markdown === true,
        stdoutTTY: Boolean(process.stdout.isTTY),
        stderrTTY: Boolean(process.stderr.isTTY),
        env: process.env,
      }),
    )
  }

  protected printDiagnostics(diagnostics: readonly Diagnostic[]): void {
    const style = this.styleFor({})
    for (const d of diagnostics) process.stderr.write(renderDiagnostic(d, style) + '\n')
  }

  /** Errors that are not bugs (state, lock, config, remote API) become one clear line and exit status 1. */
  protected override async catch(error: Error & {code?: unknown; exitCode?: number; oclif?: unknown}): Promise<unknown> {
    const known = ['StateError', 'StateCorruptError', 'StateVersionError', 'LockHeldError', 'WorkspaceError', 'SavedPlanError', 'ImportError', 'ApiError', 'RateLimitError', 'TransportError', 'ResponseVerificationError', 'CredentialsError']
    if (known.includes(error.name)) {
      // State and workspace errors carry a stable kebab-case code; remote errors are named by class (the API's own
      // code is inside the message).
      const code = typeof error.code === 'string' && /^[a-z]+(-[a-z]+)*$/.test(error.code) ? error.code : REMOTE_CODES[error.name] ?? 'error'
      if (this.jsonEnabled()) this.logJson(toErrorDocument(error, code))
      else process.stderr.write(`${this.styleFor({}).error(`error[${code}]`)}: ${error.message}\n`)
      process.exitCode = 1
      return undefined
    }
    return super.catch(error)
  }
}
