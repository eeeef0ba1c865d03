import type Sodium from 'libsodium-wrappers-sumo'

export type SodiumApi = typeof Sodium

let standard: Promise<SodiumApi> | undefined
let sumo: Promise<SodiumApi> | undefined

/**
 * libsodium costs ~55 ms to initialize, so it is loaded only on paths that seal or open.
 * The standard build covers sealing; only Argon2id (crypto_pwhash) needs the larger sumo build.
 */
export function loadSodium(): Promise<SodiumApi> {
  standard ??= (async () => {
    const lib = require('libsodium-wrappers') as SodiumApi
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
    const lib = require('libsodium-wrappers-sumo') as SodiumApi
    await lib.ready
    return lib
  })()
  return sumo
}
