// Screenshot the quickstart's visual plan (`plan --html`) into docs/plan.png, for the README.
//
// Run with `npm run docs:screenshot` (it builds first). Plans a copy of examples/quickstart, so the example stays as
// it is, and opens the page in headless Chromium (Debian's chromium package, or CHROMIUM_PATH): the first 1800 px at
// 1100 px wide. Card titles need a CJK font (fonts-wqy-microhei) to be legible.
import {spawnSync} from 'node:child_process'
import {cpSync, mkdirSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const {findChromium, screenshot, NO_CHROMIUM} = await import(path.join(packageRoot, 'dist/test/browser/chromium.js'))

const chromium = findChromium()
if (!chromium) {
  console.error(`screenshot-plan: ${NO_CHROMIUM}`)
  process.exit(1)
}
const work = mkdtempSync(path.join(tmpdir(), 'cardform-screenshot-'))
try {
  const project = path.join(work, 'quickstart')
  cpSync(path.join(packageRoot, 'examples/quickstart'), project, {recursive: true, filter: (src) => path.basename(src) !== '.cardform'})
  const html = path.join(work, 'plan.html')
  const plan = spawnSync(process.execPath, [path.join(packageRoot, 'bin/run.js'), 'plan', '-C', project, '--html', html], {encoding: 'utf8', env: {...process.env, NO_COLOR: '1'}})
  if (plan.status !== 0) {
    console.error(plan.stdout + plan.stderr)
    process.exit(1)
  }
  const out = path.join(packageRoot, 'docs/plan.png')
  mkdirSync(path.dirname(out), {recursive: true})
  await screenshot(chromium, html, 1100, 1800, out)
  console.log('Wrote docs/plan.png')
} finally {
  rmSync(work, {recursive: true, force: true})
}
