import * as fs from 'node:fs'
import Module from 'node:module'
import * as path from 'node:path'
import * as vm from 'node:vm'

/** The parts of node:module that loading a file by hand needs (not in its public types). */
const ModuleInternals = Module as unknown as {
  new (id: string, parent?: NodeModule): NodeModule & {paths: string[]; loaded: boolean}
  wrap(source: string): string
  _cache: Record<string, NodeModule>
  _nodeModulePaths(dir: string): string[]
}

/**
 * require() a CommonJS file through a V8 code cache kept in `cacheFile`. Compiling is most of
 * the load time of large scripts (the bundle, libsodium's 900 KB), and the cache the build
 * wrote lets V8 skip it. A missing or rejected cache (another Node version or V8 flags) only
 * costs the compile time it would have saved. The module lands in require's cache under its
 * own path, so a later require() of the same file gets this one.
 *
 * With AIVAULT_WRITE_CODE_CACHE=1 (the build) the cache is written when the process exits,
 * after the run has compiled the functions it used.
 */
export function requireWithCodeCache(file: string, cacheFile: string): unknown {
  const known = ModuleInternals._cache[file]
  if (known) return known.exports
  let cachedData: Buffer | undefined
  try {
    cachedData = fs.readFileSync(cacheFile)
  } catch {
    cachedData = undefined
  }
  const script = new vm.Script(ModuleInternals.wrap(fs.readFileSync(file, 'utf8')), {filename: file, cachedData})
  const mod = new ModuleInternals(file, module)
  mod.filename = file
  mod.paths = ModuleInternals._nodeModulePaths(path.dirname(file))
  ModuleInternals._cache[file] = mod
  const wrapper = script.runInThisContext() as (...args: unknown[]) => void
  try {
    wrapper.call(mod.exports, mod.exports, Module.createRequire(file), mod, file, path.dirname(file))
  } catch (error) {
    // As require() does: a module that failed is not kept half-loaded.
    delete ModuleInternals._cache[file]
    throw error
  }
  mod.loaded = true
  if (process.env.AIVAULT_WRITE_CODE_CACHE === '1') {
    process.once('exit', () => fs.writeFileSync(cacheFile, script.createCachedData()))
  }
  return mod.exports
}
