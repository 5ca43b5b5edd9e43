/**
 * A style decorates text. Renderers take one so that tests use the plain style (no ANSI codes to strip) and the CLI
 * passes the coloured one only on a TTY.
 */
export interface Style {
  bold(s: string): string
  dim(s: string): string
  green(s: string): string
  yellow(s: string): string
  red(s: string): string
  cyan(s: string): string
  magenta(s: string): string
}

const identity = (s: string) => s

export const plainStyle: Style = {bold: identity, dim: identity, green: identity, yellow: identity, red: identity, cyan: identity, magenta: identity}

const sgr = (open: number, close: number) => (s: string) => `\u001B[${open}m${s}\u001B[${close}m`

export const colorStyle: Style = {
  bold: sgr(1, 22),
  dim: sgr(2, 22),
  green: sgr(32, 39),
  yellow: sgr(33, 39),
  red: sgr(31, 39),
  cyan: sgr(36, 39),
  magenta: sgr(35, 39),
}

/** Colour only on a TTY, never with NO_COLOR or --no-color. */
export function chooseStyle(opts: {isTTY: boolean | undefined; noColor: boolean}): Style {
  if (opts.noColor || !opts.isTTY || process.env.NO_COLOR) return plainStyle
  return colorStyle
}
