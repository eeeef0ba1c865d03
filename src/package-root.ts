import * as fs from 'node:fs'
import * as path from 'node:path'

/**
 * The nearest folder at or above `start` holding a package.json: the package boundary, never
 * crossed. Files this package runs or reads (bin/aivaultd.js, registry/, dist/) are looked for
 * there and nowhere else, so nothing planted beside the install folder is ever picked up.
 */
function findPackageRoot(start: string): string {
  for (let dir = start, i = 0; i < 4; i++, dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir
  }
  throw new Error(`aivault's package.json was not found above ${start}: the installation is incomplete`)
}

let root: string | undefined

/**
 * The package root. This file runs from src/ (tests), dist/ (tsc) or inside the bundle in
 * dist/. Found on first use: most commands never need it.
 */
export function packageRoot(): string {
  root ??= findPackageRoot(__dirname)
  return root
}
