import {execFile} from 'node:child_process'
import {accessSync, constants, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {pathToFileURL} from 'node:url'
import {PNG} from 'pngjs'

/**
 * Headless Chromium for the tests (and docs screenshot) that look at the HTML plan. Debian's `chromium` package;
 * `.ci/run` installs it when missing. CHROMIUM_PATH names another binary.
 */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const candidates = [env.CHROMIUM_PATH, '/usr/bin/chromium', ...(env.PATH ?? '').split(path.delimiter).flatMap((d) => (d ? [path.join(d, 'chromium'), path.join(d, 'chromium-browser')] : []))]
  for (const c of candidates) {
    if (!c) continue
    try {
      accessSync(c, constants.X_OK)
      return c
    } catch {
      // not this one
    }
  }
  return undefined
}

export const NO_CHROMIUM = 'no Chromium found (install Debian\'s chromium package, as .ci/run does, or set CHROMIUM_PATH): the HTML plan is not checked in a browser'

/**
 * Open `htmlFile` in a fresh headless Chromium and screenshot the first `height` pixels at `width`. The flags keep it
 * off the network (this machine's network is closed: no component updates, sync or QUIC) and out of the user's profile.
 */
export async function screenshot(chromium: string, htmlFile: string, width: number, height: number, out?: string): Promise<PNG> {
  const dir = mkdtempSync(path.join(tmpdir(), 'cardform-chromium-'))
  const file = out ?? path.join(dir, 'shot.png')
  try {
    const args = [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--user-data-dir=${path.join(dir, 'profile')}`,
      '--hide-scrollbars',
      '--force-device-scale-factor=1',
      `--window-size=${width},${height}`,
      `--screenshot=${file}`,
      pathToFileURL(htmlFile).href,
    ]
    await new Promise<void>((resolve, reject) => {
      execFile(chromium, args, {timeout: 30_000}, (error, _stdout, stderr) => (error ? reject(new Error(`chromium failed: ${error.message}\n${stderr}`)) : resolve()))
    })
    return PNG.sync.read(readFileSync(file))
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}

export interface Box {
  count: number
  minX: number
  minY: number
  maxX: number
  maxY: number
}

/** Where the pixels within `tolerance` of `rgb` are, in `png` (optionally only inside `within`). */
export function findColor(png: PNG, rgb: readonly [number, number, number], tolerance = 6, within?: Box): Box {
  const box: Box = {count: 0, minX: Infinity, minY: Infinity, maxX: -Infinity, maxY: -Infinity}
  const [x0, y0, x1, y1] = within ? [within.minX, within.minY, within.maxX, within.maxY] : [0, 0, png.width - 1, png.height - 1]
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const i = (y * png.width + x) * 4
      if (Math.abs(png.data[i]! - rgb[0]) <= tolerance && Math.abs(png.data[i + 1]! - rgb[1]) <= tolerance && Math.abs(png.data[i + 2]! - rgb[2]) <= tolerance) {
        box.count++
        box.minX = Math.min(box.minX, x)
        box.minY = Math.min(box.minY, y)
        box.maxX = Math.max(box.maxX, x)
        box.maxY = Math.max(box.maxY, y)
      }
    }
  }
  return box
}

export function hexRgb(hex: string): [number, number, number] {
  const n = Number.parseInt(hex.slice(1), 16)
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255]
}
