import type Sodium from 'libsodium-wrappers-sumo'
import Module from 'node:module'
import * as path from 'node:path'

import {requireWithCodeCache} from '../../code-cache'
import {packageRoot} from '../../package-root'

export type SodiumApi = typeof Sodium

/**
 * require(wrappers) through the V8 code caches the build writes to dist/ (compiling libsodium's
 * ~1 MB of JavaScript was ~30 ms of every command that seals or opens a secret). The library
 * the wrappers require is loaded the same way first, so their require() finds it.
 */
function requireSodium(wrappers: string, library: string): SodiumApi {
  const cache = (name: string) => path.join(packageRoot(), 'dist', `${name}.code-cache`)
  const wrappersFile = require.resolve(wrappers)
  requireWithCodeCache(Module.createRequire(wrappersFile).resolve(library), cache(library))
  return requireWithCodeCache(wrappersFile, cache(wrappers)) as SodiumApi
}

let standard: Promise<SodiumApi> | undefined
let sumo: Promise<SodiumApi> | undefined

/**
 * libsodium costs ~15 ms to load and initialize with its code cache (~50 ms without), so it
 * is loaded only on paths that seal or open.
 * The standard build covers sealing; only Argon2id (crypto_pwhash) needs the larger sumo build.
 */
export function loadSodium(): Promise<SodiumApi> {
  standard ??= (async () => {
    const lib = requireSodium('libsodium-wrappers', 'libsodium')
    await lib.ready
    return lib
  })()
  return standard
}

/** Start loading libsodium without waiting for it (once; later calls cost nothing). */
export function prefetchSodium(): void {
  if (!standard) void loadSodium().catch(() => {})
}

export function loadSodiumSumo(): Promise<SodiumApi> {
  sumo ??= (async () => {
    const lib = requireSodium('libsodium-wrappers-sumo', 'libsodium-sumo')
    await lib.ready
    return lib
  })()
  return sumo
}
