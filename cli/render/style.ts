/**
 * How renderers mark up text. Renderers take a Style instead of knowing about terminals, so tests use `plainStyle`
 * and never strip escape codes.
 */
export interface Style {
  error(text: string): string
  warning(text: string): string
  location(text: string): string
  dim(text: string): string
  bold(text: string): string
}

const same = (text: string) => text

export const plainStyle: Style = {error: same, warning: same, location: same, dim: same, bold: same}

const sgr = (open: number, close: number) => (text: string) => `\u001b[${open}m${text}\u001b[${close}m`

export const ansiStyle: Style = {
  error: sgr(31, 39),
  warning: sgr(33, 39),
  location: sgr(1, 22),
  dim: sgr(2, 22),
  bold: sgr(1, 22),
}
