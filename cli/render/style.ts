/**
 * How renderers mark up text. Renderers take a Style instead of knowing about terminals, so tests use `plainStyle`
 * and never strip escape codes. Names say what the text is, not its colour.
 */
export interface Style {
  error(text: string): string
  warning(text: string): string
  location(text: string): string
  dim(text: string): string
  bold(text: string): string
  /** Created cards and added fields. */
  added(text: string): string
  /** Updated cards and changed fields. */
  changed(text: string): string
  /** Removed or replaced cards and removed fields. */
  removed(text: string): string
  /** Changes made outside cardform. */
  drift(text: string): string
  /** Changes that can never be undone. */
  irreversible(text: string): string
}

const same = (text: string) => text

export const plainStyle: Style = {
  error: same,
  warning: same,
  location: same,
  dim: same,
  bold: same,
  added: same,
  changed: same,
  removed: same,
  drift: same,
  irreversible: same,
}

const sgr = (open: number, close: number) => (text: string) => `\u001b[${open}m${text}\u001b[${close}m`

export const ansiStyle: Style = {
  error: sgr(31, 39),
  warning: sgr(33, 39),
  location: sgr(1, 22),
  dim: sgr(2, 22),
  bold: sgr(1, 22),
  added: sgr(32, 39),
  changed: sgr(33, 39),
  removed: sgr(31, 39),
  drift: sgr(36, 39),
  irreversible: sgr(35, 39),
}
