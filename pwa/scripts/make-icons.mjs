// Rasterises the project's own SVG icons into the PNGs the manifest names.
// Run: npm run icons (the PNGs are committed, so a build does not need this step).
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Resvg } from '@resvg/resvg-js'

const here = dirname(fileURLToPath(import.meta.url))
const out = join(here, '..', 'public', 'icons')
mkdirSync(out, { recursive: true })

const base = readFileSync(join(here, 'icon.svg'), 'utf8')
// "any" icons: rounded corners, full-size mark. Maskable: square, mark inside the 80% safe zone.
const variants = {
  any: base.replace('__RX__', '96').replace('__SCALE__', '1'),
  maskable: base.replace('__RX__', '0').replace('__SCALE__', '0.72'),
}

function png(svg, size, file) {
  const data = new Resvg(svg, { fitTo: { mode: 'width', value: size } }).render().asPng()
  writeFileSync(join(out, file), data)
  console.log(`${file} ${size}x${size} ${data.length} bytes`)
}

png(variants.any, 192, 'icon-192.png')
png(variants.any, 512, 'icon-512.png')
png(variants.maskable, 512, 'maskable-512.png')
png(variants.maskable, 180, 'apple-touch-icon-180.png')
png(variants.any, 64, 'favicon-64.png')
png(readFileSync(join(here, 'shortcut-note.svg'), 'utf8'), 96, 'shortcut-note-96.png')
png(readFileSync(join(here, 'shortcut-opportunity.svg'), 'utf8'), 96, 'shortcut-opportunity-96.png')
writeFileSync(join(out, '..', 'favicon.svg'), variants.any)
