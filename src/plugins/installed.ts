/**
 * The plugins installed or linked for this user, read from the data directory's package.json
 * that @oclif/plugin-plugins maintains (`oclif.plugins: [{name, type: user|link, root?}]`).
 * Only JSON is read here: loading a plugin's code is the hook runner's job.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'

import {AivaultError} from '../errors'
import {HOOK_EVENTS, HookEvent} from './hooks'
import {pluginDataDir} from './data-dir'

export interface InstalledPlugin {
  name: string
  version: string
  type: 'user' | 'link'
  /** The plugin's package folder (absolute). */
  root: string
  /** The plugin's provider YAML folder (`aivault.registry`), absolute. */
  registryDir?: string
  /** Hook module files by event (absolute), in declaration order. */
  hooks: Partial<Record<HookEvent, string[]>>
  /** Whether the package is ESM (`"type": "module"`): its `.js` hook files are imported, not required. */
  esm: boolean
  /** Whether its package.json has the `oclif` section oclif requires of a plugin. */
  oclif: boolean
  /** Whether it declares oclif's own lifecycle hooks (init, prerun, …): they run on every command. */
  oclifHooks: boolean
  /** Why the plugin cannot be used at all (a hook or registry path outside its folder), if so. */
  problem?: string
}

interface PluginEntry {
  name?: unknown
  type?: unknown
  root?: unknown
}

/** The data directory's package.json, or undefined when no plugin was ever installed. */
export function readPluginList(env: NodeJS.ProcessEnv = process.env): PluginEntry[] {
  const file = path.join(pluginDataDir(env), 'package.json')
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch {
    return []
  }
  try {
    const plugins = (JSON.parse(text) as {oclif?: {plugins?: unknown}}).oclif?.plugins
    return Array.isArray(plugins) ? plugins.filter((p): p is PluginEntry => typeof p === 'object' && p !== null) : []
  } catch {
    throw new AivaultError('invalid_request', `${file} is not valid JSON`, {hint: 'fix or delete it, then install the plugins again'})
  }
}

/** Every installed or linked plugin whose package.json can be read. */
export function installedPlugins(env: NodeJS.ProcessEnv = process.env): InstalledPlugin[] {
  const dataDir = pluginDataDir(env)
  const out: InstalledPlugin[] = []
  for (const entry of readPluginList(env)) {
    if (typeof entry.name !== 'string' || (entry.type !== 'user' && entry.type !== 'link')) continue
    const root = entry.type === 'link' && typeof entry.root === 'string' ? entry.root : path.join(dataDir, 'node_modules', entry.name)
    const plugin = readPluginPackage(root, entry.type)
    if (plugin) out.push(plugin)
  }
  return out
}

/** A plugin package's aivault-relevant facts, or undefined when its package.json is unreadable. */
export function readPluginPackage(root: string, type: 'user' | 'link'): InstalledPlugin | undefined {
  let pjson: {name?: unknown; version?: unknown; type?: unknown; aivault?: {registry?: unknown}; oclif?: {hooks?: Record<string, unknown>} | null}
  try {
    pjson = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'))
  } catch {
    return undefined
  }
  if (typeof pjson.name !== 'string') return undefined
  const base = path.resolve(root)
  // Code and providers must come from the plugin's own folder: that is what trust digests.
  const outside: string[] = []
  const inside = (relative: string) => {
    const resolved = path.resolve(base, relative)
    if (resolved !== base && !resolved.startsWith(base + path.sep)) outside.push(relative)
    return resolved
  }
  const hooks: InstalledPlugin['hooks'] = {}
  for (const event of HOOK_EVENTS) {
    const declared = pjson.oclif?.hooks?.[event]
    const files = (Array.isArray(declared) ? declared : [declared]).filter((f): f is string => typeof f === 'string')
    if (files.length > 0) hooks[event] = files.map(inside)
  }
  const registry = pjson.aivault?.registry
  const registryDir = typeof registry === 'string' ? inside(registry) : undefined
  return {
    name: pjson.name,
    version: typeof pjson.version === 'string' ? pjson.version : '0.0.0',
    type,
    root: base,
    registryDir,
    hooks,
    esm: pjson.type === 'module',
    oclif: typeof pjson.oclif === 'object' && pjson.oclif !== null,
    oclifHooks: Object.keys(pjson.oclif?.hooks ?? {}).some((event) => !(HOOK_EVENTS as readonly string[]).includes(event)),
    problem: outside.length > 0 ? `names files outside its folder (${outside.join(', ')})` : undefined,
  }
}

/** The installed or linked plugin called `name`; not_found otherwise. */
export function findInstalledPlugin(name: string, env: NodeJS.ProcessEnv = process.env): InstalledPlugin {
  const plugin = installedPlugins(env).find((p) => p.name === name)
  if (!plugin) throw new AivaultError('not_found', `no plugin ${name} is installed or linked`, {hint: 'see aivault plugins list'})
  return plugin
}
