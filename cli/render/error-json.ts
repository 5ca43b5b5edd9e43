import type {CardformError} from '../../engine/generated/error.js'

/** The document `--json` prints for a failed command (schemas/error.schema.json). */
export type ErrorDocument = CardformError

/** oclif's command-line error classes, by name, and the code each becomes. */
const USAGE_CODES: Record<string, string> = {
  NonExistentFlagsError: 'unknown-flag',
  UnexpectedArgsError: 'unexpected-argument',
  RequiredArgsError: 'missing-argument',
  FlagInvalidOptionError: 'invalid-option',
  ArgInvalidOptionError: 'invalid-option',
  FailedFlagValidationError: 'flag-conflict',
  ViolatedFlagConstraintError: 'flag-conflict',
}

const KEBAB = /^[a-z]+(-[a-z]+)*$/

/** The error's exit status as oclif would set it (`this.error(…, {exit: 2})`, parse errors), when it says one. */
export function oclifExit(error: unknown): number | undefined {
  const exit = (error as {oclif?: {exit?: unknown}} | null)?.oclif?.exit
  return typeof exit === 'number' ? exit : undefined
}

/** True for a wrong command line: oclif's parse errors, a flag value that failed to parse, and our own exit-2 errors. */
export function isUsageError(error: unknown): boolean {
  if (!(error instanceof Error)) return false
  return oclifExit(error) === 2 || error.constructor.name in USAGE_CODES || error.message.startsWith('Parsing --')
}

/**
 * One short document for any error: its code and a one-line message. oclif's own error object (its `parse` context
 * holds the whole command configuration: package.json, the home directory, every flag) is never printed.
 */
export function toErrorDocument(error: unknown, code?: string): ErrorDocument {
  const err = error instanceof Error ? error : new Error(String(error))
  return {error: {code: code ?? errorCode(err), message: oneLine(err.message)}}
}

function errorCode(err: Error): string {
  const own = (err as {code?: unknown}).code
  if (typeof own === 'string' && KEBAB.test(own)) return own
  const byClass = USAGE_CODES[err.constructor.name]
  if (byClass) return byClass
  if (err.message.startsWith('Parsing --')) return 'invalid-flag-value'
  return oclifExit(err) === 2 ? 'usage' : 'internal-error'
}

/**
 * oclif's messages span lines ("The following errors occurred:", "\n\t", "See more help with --help"): one line, the
 * help pointer dropped (a machine reading this has no use for it), at most 500 characters.
 */
function oneLine(message: string): string {
  const parts = message
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && line !== 'See more help with --help' && !/^The following errors? occurred:$/.test(line))
  const text = parts.join(' ').replace(/^Parsing (--[\w-]+) /, 'Parsing $1: ')
  return text.length > 500 ? `${text.slice(0, 497)}...` : text
}
