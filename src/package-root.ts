import * as fs from 'node:fs'
import * as path from 'node:path'

function findPackageRoot(start: string): string {
  for (let dir = start, i = 0; i < 4; i++, dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'registry'))) return dir
  }
  return path.join(start, '..', '..')
}

let root: string | undefined

/**
 * The package root: the nearest folder above this file holding package.json and registry/.
 * This file runs from src/ (tests), dist/ (tsc) or inside the bundle in dist/. Found on first
 * use: most commands never need it.
 */
export function packageRoot(): string {
  root ??= findPackageRoot(__dirname)
  return root
}
