import * as fs from 'node:fs'
import Module from 'node:module'
import * as path from 'node:path'
import * as vm from 'node:vm'

/**
 * The private parts of node:module (not in its public types or docs) that loading a file by
 * hand needs, and the only place aivault uses them:
 * - `new Module(id, parent)`: a module record like the one require() makes;
 * - `Module.wrap(source)`: the CommonJS function wrapper around a file's text;
 * - `Module._cache`: require's cache, so a later require() of the file gets this one;
 * - `Module._nodeModulePaths(dir)`: the node_modules lookup paths of a folder;
 * plus the record's `filename`, `paths` and `loaded` fields. When to remove all of this:
 * docs/decisions/011-bundle-patches.md.
 */
export type ModuleInternals = {
  new (id: string, parent?: NodeModule): NodeModule & {paths: string[]; loaded: boolean}
  wrap(source: string): string
  _cache: Record<string, NodeModule>
  _nodeModulePaths(dir: string): string[]
}

/** Whether `candidate` still has every internal this loader uses (a later Node may not). */
export function hasModuleInternals(candidate: unknown): candidate is ModuleInternals {
  if (typeof candidate !== 'function') return false
  const m = candidate as unknown as Partial<ModuleInternals>
  return (
    typeof m.wrap === 'function' &&
    typeof m._nodeModulePaths === 'function' &&
    typeof m._cache === 'object' &&
    m._cache !== null
  )
}

const internals: ModuleInternals | undefined = hasModuleInternals(Module) ? Module : undefined

/**
 * require() a CommonJS file through a V8 code cache kept in `cacheFile`. Compiling is most of
 * the load time of large scripts (the bundle, libsodium's 900 KB), and the cache the build
 * wrote lets V8 skip it. A missing or rejected cache (another Node version or V8 flags) only
 * costs the compile time it would have saved; missing Module internals fall back to a plain
 * require(). The module lands in require's cache under its own path, so a later require() of
 * the same file gets this one.
 *
 * With AIVAULT_WRITE_CODE_CACHE=1 (the build) the cache is written when the process exits,
 * after the run has compiled the functions it used.
 */
export function requireWithCodeCache(file: string, cacheFile: string, moduleApi: ModuleInternals | undefined = internals): unknown {
  if (!moduleApi) return require(file)
  const known = moduleApi._cache[file]
  if (known) return known.exports
  let cachedData: Buffer | undefined
  try {
    cachedData = fs.readFileSync(cacheFile)
  } catch {
    cachedData = undefined
  }
  const script = new vm.Script(moduleApi.wrap(fs.readFileSync(file, 'utf8')), {filename: file, cachedData})
  const mod = new moduleApi(file, module)
  mod.filename = file
  mod.paths = moduleApi._nodeModulePaths(path.dirname(file))
  moduleApi._cache[file] = mod
  const wrapper = script.runInThisContext() as (...args: unknown[]) => void
  try {
    wrapper.call(mod.exports, mod.exports, Module.createRequire(file), mod, file, path.dirname(file))
  } catch (error) {
    // As require() does: a module that failed is not kept half-loaded.
    delete moduleApi._cache[file]
    throw error
  }
  mod.loaded = true
  if (process.env.AIVAULT_WRITE_CODE_CACHE === '1') {
    process.once('exit', () => fs.writeFileSync(cacheFile, script.createCachedData()))
  }
  return mod.exports
}
