// Draws the quickstart's example images (examples/quickstart/cards/assets/) at the sizes the API documents, so the
// example shows images taken from local files. Run: node scripts/example-images.mjs (needs the dev dependency pngjs).
import {mkdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {PNG} from 'pngjs'

const out = path.join(path.dirname(fileURLToPath(import.meta.url)), '../examples/quickstart/cards/assets')

function draw(width, height, pixel) {
  const image = new PNG({width, height})
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [r, g, b, a = 255] = pixel(x, y)
      const i = (y * width + x) * 4
      image.data[i] = r
      image.data[i + 1] = g
      image.data[i + 2] = b
      image.data[i + 3] = a
    }
  }
  return PNG.sync.write(image, {colorType: 6})
}

const mix = (a, b, t) => a.map((v, i) => Math.round(v + (b[i] - v) * t))

// Coffee logo, 120×120: a cream disc with a brown cup and a darker saucer line.
const logo = draw(120, 120, (x, y) => {
  const dx = x - 59.5
  const dy = y - 59.5
  const r = Math.hypot(dx, dy)
  if (r > 58) return [255, 255, 255]
  if (r > 54) return [109, 76, 65]
  const cup = x >= 34 && x <= 78 && y >= 40 && y <= 78 && Math.hypot((x - 56) / 24, (y - 40) / 40) <= 1
  const handle = Math.hypot(x - 82, y - 54) <= 11 && Math.hypot(x - 82, y - 54) >= 6 && x > 78
  const saucer = y >= 82 && y <= 86 && x >= 28 && x <= 90
  if (cup || handle || saucer) return [109, 76, 65]
  return [255, 243, 224]
})

// Coffee background, 1000×600: a warm diagonal gradient with soft stripes.
const background = draw(1000, 600, (x, y) => {
  const t = (x / 1000) * 0.6 + (y / 600) * 0.4
  const base = mix([62, 39, 35], [141, 110, 99], t)
  return (x + y) % 80 < 6 ? mix(base, [215, 204, 200], 0.25) : base
})

// Fitness card picture, 716×320 (the recommended size): a blue band with lighter chevrons.
const picture = draw(716, 320, (x, y) => {
  const base = mix([21, 101, 192], [66, 165, 245], x / 716)
  const chevron = (x + Math.abs(y - 160)) % 120 < 14
  return chevron ? mix(base, [255, 255, 255], 0.3) : base
})

mkdirSync(out, {recursive: true})
writeFileSync(path.join(out, 'coffee-logo.png'), logo)
writeFileSync(path.join(out, 'coffee-background.png'), background)
writeFileSync(path.join(out, 'fitness-card.png'), picture)
console.log(`wrote ${[logo, background, picture].map((b) => b.length).join(', ')} bytes`)
