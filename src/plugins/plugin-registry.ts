/**
 * Providers that plugins add (SPEC §13): each plugin's `aivault.registry` folder is validated
 * with the build's standalone schema validator and the registry rules, then checked against the
 * built-in registry and the other plugins. A refused provider is not loaded; the rest of the
 * CLI keeps working, and each refusal names the plugin and the rule.
 *
 * Parsing YAML costs more than a command's whole start, so the outcome is kept in
 * `<data dir>/cache/plugin-registry.json`, keyed by the stat stamps of every file it read.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'

import {packageRoot} from '../package-root'
import type {ProviderValidator} from '../registry/build'
import {compileProviderFiles} from '../registry/build'
import {BUILTIN_REGISTRY_JSON, Registry} from '../registry/registry'
import {formatIssue, secretClaims} from '../registry/rules'
import type {ProviderDef} from '../registry/types'
import {pluginDataDir} from './data-dir'
import {fileStamp} from './file-stamp'
import type {InstalledPlugin} from './installed'

/** Why a plugin's provider (or its whole registry) was not loaded. */
export interface PluginRefusal {
  plugin: string
  /** The provider refused, when the refusal is about one provider. */
  provider?: string
  /** The rule, in words: `provider id "openai" is built in`. */
  reason: string
}

export interface PluginProviders {
  providers: ProviderDef[]
  refusals: PluginRefusal[]
}

const CACHE_VERSION = 1

/**
 * The providers of `plugins` that may load next to the built-in registry, and the refusals of
 * the rest. The built-in registry is loaded only when the cache cannot answer (a command that
 * uses no provider then pays for the plugins' warnings with a few stat calls and one read).
 */
export function pluginProviders(plugins: readonly InstalledPlugin[], builtin: () => Registry, env: NodeJS.ProcessEnv = process.env): PluginProviders {
  const withRegistry = plugins.filter((p) => p.registryDir !== undefined || p.problem !== undefined)
  if (withRegistry.length === 0) return {providers: [], refusals: []}
  const key = JSON.stringify([CACHE_VERSION, stamp(BUILTIN_REGISTRY_JSON), withRegistry.map(fingerprint)])
  const cacheFile = path.join(pluginDataDir(env), 'cache', 'plugin-registry.json')
  const cached = readCache(cacheFile, key)
  if (cached) return cached
  const result = mergePluginProviders(withRegistry.map(compilePlugin), builtin())
  writeCache(cacheFile, key, result)
  return result
}

interface CompiledPlugin {
  plugin: string
  defs: ProviderDef[]
  refusal?: string
}

/** One plugin's registry folder, validated alone (schema, then the registry rules). */
export function compilePlugin(plugin: InstalledPlugin): CompiledPlugin {
  if (plugin.problem) return {plugin: plugin.name, defs: [], refusal: plugin.problem}
  const dir = plugin.registryDir as string
  let names: string[]
  try {
    names = fs.readdirSync(dir).filter((n) => n.endsWith('.yaml') || n.endsWith('.yml')).sort()
  } catch {
    return {plugin: plugin.name, defs: [], refusal: `its registry folder ${dir} cannot be read`}
  }
  if (names.length === 0) return {plugin: plugin.name, defs: [], refusal: `its registry folder ${dir} holds no provider YAML`}
  const shown = path.relative(plugin.root, dir).split(path.sep).join('/') || '.'
  const files = names.map((name) => ({name, text: fs.readFileSync(path.join(dir, name), 'utf8')}))
  const {entries, issues} = compileProviderFiles(files, providerValidator(), (name) => `${plugin.name}/${shown}/${name}`)
  if (issues.length > 0) {
    const listed = issues.slice(0, 3).map(formatIssue).join('; ')
    return {plugin: plugin.name, defs: [], refusal: `invalid registry: ${listed}${issues.length > 3 ? ` (and ${issues.length - 3} more)` : ''}`}
  }
  return {plugin: plugin.name, defs: entries.map((e) => e.def)}
}

/**
 * The rules across sources: a plugin provider may not reuse a built-in provider id or claim a
 * built-in secret name (so it can never add hosts to a built-in provider either); a provider
 * id or secret name that two plugins claim is refused for both, each refusal naming the other.
 */
export function mergePluginProviders(compiled: readonly CompiledPlugin[], builtin: Registry): PluginProviders {
  const refusals: PluginRefusal[] = compiled.filter((c) => c.refusal).map((c) => ({plugin: c.plugin, reason: c.refusal as string}))
  const candidates = compiled.flatMap((c) => c.defs.map((def) => ({plugin: c.plugin, def})))
  const owners = (key: (def: ProviderDef) => string[]) => {
    const by = new Map<string, string[]>()
    for (const {plugin, def} of candidates) for (const k of key(def)) by.set(k, [...(by.get(k) ?? []), plugin])
    return by
  }
  const idOwners = owners((def) => [def.provider])
  const claimOwners = owners((def) => secretClaims(def).map((c) => c.name))
  const accepted: ProviderDef[] = []
  for (const {plugin, def} of candidates) {
    const refuse = (reason: string) => refusals.push({plugin, provider: def.provider, reason})
    const others = (list: string[] | undefined) => (list ?? []).filter((p) => p !== plugin)
    if (builtin.provider(def.provider)) {
      refuse(`provider id "${def.provider}" is a built-in provider`)
      continue
    }
    const builtinClaim = secretClaims(def).find((c) => builtin.claimFor(c.name))
    if (builtinClaim) {
      refuse(`secret ${builtinClaim.name} is claimed by the built-in provider "${builtin.claimFor(builtinClaim.name)?.provider}"`)
      continue
    }
    const rivalsForId = others(idOwners.get(def.provider))
    if (rivalsForId.length > 0) {
      refuse(`provider id "${def.provider}" is also defined by plugin ${rivalsForId.join(', ')}: both are refused`)
      continue
    }
    const contested = secretClaims(def).find((c) => others(claimOwners.get(c.name)).length > 0)
    if (contested) {
      refuse(`secret ${contested.name} is also claimed by plugin ${others(claimOwners.get(contested.name)).join(', ')}: both are refused`)
      continue
    }
    accepted.push({...def, plugin})
  }
  return {providers: accepted, refusals}
}

let validator: ProviderValidator | undefined

/** The schema validator the build compiled (dist/registry/provider-validator.js): no schema compilation at run time. */
function providerValidator(): ProviderValidator {
  if (!validator) {
    const loaded = require(path.join(packageRoot(), 'dist', 'registry', 'provider-validator.js')) as ProviderValidator | {default: ProviderValidator}
    validator = typeof loaded === 'function' ? loaded : loaded.default
  }
  return validator
}

/** What a plugin's providers were compiled from: its identity and the stamp of every file read. */
function fingerprint(plugin: InstalledPlugin): unknown[] {
  const files = [path.join(plugin.root, 'package.json')]
  if (plugin.registryDir) {
    files.push(plugin.registryDir)
    try {
      for (const name of fs.readdirSync(plugin.registryDir).sort()) files.push(path.join(plugin.registryDir, name))
    } catch {
      // an unreadable folder is stamped as missing below
    }
  }
  return [plugin.name, plugin.root, plugin.problem ?? '', files.map((f) => [f, stamp(f)])]
}

const stamp = (file: string): string => fileStamp(file) ?? 'missing'

function readCache(file: string, key: string): PluginProviders | undefined {
  try {
    const cached = JSON.parse(fs.readFileSync(file, 'utf8')) as {key?: string; result?: PluginProviders}
    return cached.key === key ? cached.result : undefined
  } catch {
    return undefined
  }
}

/** Best effort: a cache that cannot be written only costs the next command the parse again. */
function writeCache(file: string, key: string, result: PluginProviders): void {
  try {
    fs.mkdirSync(path.dirname(file), {recursive: true, mode: 0o700})
    const tmp = `${file}.${process.pid}.tmp`
    fs.writeFileSync(tmp, JSON.stringify({key, result}), {mode: 0o600})
    fs.renameSync(tmp, file)
  } catch {
    // not fatal
  }
}
