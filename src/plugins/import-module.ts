import {fileURLToPath} from 'node:url'

type Importer = (specifier: string) => Promise<unknown>

/**
 * import() for plugin code. The entry points (bin/run.js, bin/aivaultd.js) define
 * `globalThis.__aivaultImport` from a normally loaded module: code in the V8-cached bundle
 * cannot import() itself on Node 20, and tsc compiles import() here into require(). Without an
 * entry point (unit tests) require() is used, which loads ES modules too on Node 20.19 and later.
 */
export function importModule(specifier: string): Promise<unknown> {
  const routed = (globalThis as {__aivaultImport?: Importer}).__aivaultImport
  if (routed) return routed(specifier)
  return Promise.resolve().then(() => require(specifier.startsWith('file:') ? fileURLToPath(specifier) : specifier))
}
