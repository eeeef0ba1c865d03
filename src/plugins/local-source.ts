/**
 * Local plugin sources (a folder or a packed .tgz) and the package name they hold, read from
 * their own package.json. plugin-plugins 5.5.2 guesses the name of what a `file:` spec
 * installed by comparing npm-package-arg results, and every folder dependency compares equal
 * to every other (type `directory`, no hosted git info): the first one listed was taken.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import {fileURLToPath} from 'node:url'
import * as zlib from 'node:zlib'

import {AivaultError} from '../errors'

/** The absolute path of a local spec (`file:` prefix optional, relative to the working directory), or undefined for an npm name or a URL. */
export function localSource(spec: string): string | undefined {
  if (spec.startsWith('file://')) return fileURLToPath(spec)
  if (spec.startsWith('file:')) return path.resolve(spec.slice('file:'.length))
  return fs.existsSync(spec) ? path.resolve(spec) : undefined
}

/** The `name` in the package.json of a folder or a packed tarball: what npm installs it as. */
export function localPackageName(source: string): string {
  let manifest: {name?: unknown}
  try {
    manifest = fs.statSync(source).isDirectory() ? JSON.parse(fs.readFileSync(path.join(source, 'package.json'), 'utf8')) : tarballManifest(source)
  } catch {
    manifest = {}
  }
  if (typeof manifest.name !== 'string' || manifest.name === '') {
    throw new AivaultError('invalid_request', `${source} holds no readable package.json with a name`, {hint: 'install the folder of a plugin package, or the .tgz npm pack made of it'})
  }
  return manifest.name
}

/** The package.json of a gzipped tarball: the one file right under its top folder (npm strips that folder, whatever its name). */
function tarballManifest(file: string): {name?: unknown} {
  const tar = zlib.gunzipSync(fs.readFileSync(file))
  const text = (bytes: Buffer) => bytes.toString('utf8').replace(/\0.*$/s, '')
  let longName: string | undefined
  for (let at = 0; at + 512 <= tar.length; ) {
    const header = tar.subarray(at, at + 512)
    if (header.every((byte) => byte === 0)) break
    const size = Number.parseInt(text(header.subarray(124, 136)).trim() || '0', 8)
    const type = text(header.subarray(156, 157))
    const body = tar.subarray(at + 512, at + 512 + size)
    const prefix = text(header.subarray(345, 500))
    const name = longName ?? (prefix ? `${prefix}/${text(header.subarray(0, 100))}` : text(header.subarray(0, 100)))
    longName = undefined
    // Long paths come in a preceding pax ('x') or GNU ('L') entry.
    if (type === 'x') longName = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(body.toString('utf8'))?.[1]
    else if (type === 'L') longName = text(body)
    else if ((type === '0' || type === '') && name.replace(/^\.\//, '').split('/').filter(Boolean).length === 2 && name.endsWith('/package.json')) {
      return JSON.parse(body.toString('utf8'))
    }
    at += 512 + Math.ceil(size / 512) * 512
  }
  return {}
}
