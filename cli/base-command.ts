import {Command, Flags} from '@oclif/core'
import {isUsageError, oclifExit, toErrorDocument} from './render/error-json.js'
import {ansiStyle, plainStyle, type Style} from './render/style.js'

/**
 * Exit codes, stable for scripts: 0 success, 1 the input has errors (diagnostics were printed), 2 the command line
 * is wrong (unknown flag or argument, unknown kind).
 */
export const EXIT = {ok: 0, invalid: 1, usage: 2} as const

/** Flags every cardform command shares, and the colour decision (TTY, NO_COLOR, --no-color). */
export abstract class BaseCommand extends Command {
  static override baseFlags = {
    dir: Flags.string({char: 'C', description: 'Project directory (the one holding cardform.yaml).', default: '.', helpGroup: 'GLOBAL'}),
    color: Flags.boolean({
      description: 'Colour the output. On by default on a terminal unless NO_COLOR is set; --no-color turns it off.',
      allowNo: true,
      helpGroup: 'GLOBAL',
    }),
  }

  /**
   * --json output, the same text as oclif's (two-space JSON and a newline: cardform sets no JSON colour theme), without
   * its colouring pass, which tokenizes the whole text into one object per token: for the plan of 10,000 cards
   * (4.8 MB of JSON) that pass alone raised the peak heap by about 85 MB.
   */
  protected override logJson(json: unknown): void {
    process.stdout.write(JSON.stringify(json, null, 2) + '\n')
  }

  /**
   * With --json, a failure is one short document on standard output (schemas/error.schema.json), never oclif's whole
   * error object; a wrong command line exits 2 as it does without --json. Without --json, oclif prints it.
   */
  protected override async catch(error: Error & {exitCode?: number}): Promise<unknown> {
    if (!this.jsonEnabled()) return super.catch(error)
    const usage = isUsageError(error)
    process.exitCode = usage ? EXIT.usage : typeof error.exitCode === 'number' ? error.exitCode : oclifExit(error) ?? 1
    this.logJson(toErrorDocument(error))
    return undefined
  }

  /** Kept for oclif's callers; the document is always the short one. */
  protected override toErrorJson(error: unknown): unknown {
    return toErrorDocument(error)
  }

  protected styleFor(flags: {color?: boolean | undefined}): Style {
    return useColor(flags.color, Boolean(process.stdout.isTTY), process.env.NO_COLOR) ? ansiStyle : plainStyle
  }
}

/** An explicit flag wins; otherwise colour only on a terminal and only when NO_COLOR is unset or empty. */
export function useColor(flag: boolean | undefined, isTTY: boolean, noColor: string | undefined): boolean {
  if (flag !== undefined) return flag
  return isTTY && (noColor === undefined || noColor === '')
}
