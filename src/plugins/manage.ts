/**
 * Installing, linking and removing plugins: @oclif/plugin-plugins does the npm work (into the
 * data directory's package.json and node_modules); this module adds aivault's rules around it.
 * - A local folder or tarball is installed here under the name in its own package.json (copied,
 *   never symlinked); npm names and URLs go through plugin-plugins' install.
 * - npm runs with lifecycle scripts disabled: installing a plugin runs none of its code.
 * - A plugin is vetted before it is kept: hook and registry paths inside its folder, a registry
 *   that passes the schema and rules (errors name the file and JSON pointer), no provider that
 *   the built-in registry or another plugin would refuse, no command that shadows one of
 *   aivault's own. The last two may be overridden with `force` (aivault's command still wins,
 *   and a refused provider is still not loaded); a broken plugin is never kept.
 */
import * as path from 'node:path'
import {pathToFileURL} from 'node:url'

import {Config} from '@oclif/core'

import {AivaultError} from '../errors'
import {loadBuiltinRegistry} from '../registry/registry'
import {importModule} from './import-module'
import {findInstalledPlugin, installedPlugins, InstalledPlugin, readPluginPackage} from './installed'
import {localPackageName, localSource} from './local-source'
import {compilePlugin, mergePluginProviders} from './plugin-registry'
import {untrustPlugin} from './trust'

export interface PluginChange {
  name: string
  version: string
  type: 'user' | 'link'
  root: string
  commands: string[]
  providers: string[]
  hooks: string[]
  /** What `force` let through (refused providers, shadowed commands). */
  overridden: string[]
}

interface Installed {
  name: string
  root: string
  commands: Array<{id: string; aliases?: string[]}>
}

interface PluginsManager {
  npm: {install(args: string[], options: {cwd: string; logLevel: string; prod: boolean}): Promise<unknown>}
  add(...plugins: Array<{name: string; type: 'user'; url: string}>): Promise<void>
  install(name: string, options: {force?: boolean}): Promise<Installed>
  link(root: string, options: {install: boolean}): Promise<unknown>
  uninstall(name: string): Promise<void>
}

/** npm's own lines go to stdout: silent when stdout must hold one JSON value. */
function npmLogLevel(quiet: boolean): string {
  return quiet ? 'silent' : 'notice'
}

/** plugin-plugins' Plugins class. Its package exports only its commands, so the module is imported by path. */
async function pluginsManager(config: Config, quiet: boolean): Promise<PluginsManager> {
  const index = require.resolve('@oclif/plugin-plugins')
  const module = (await importModule(pathToFileURL(path.join(path.dirname(index), 'plugins.js')).href)) as {default: new (o: {config: Config; logLevel: string}) => PluginsManager}
  return new module.default({config, logLevel: npmLogLevel(quiet)})
}

/**
 * A folder or tarball installed under the name its own package.json gives (plugin-plugins'
 * guess picks the wrong one when another folder is installed: see local-source.ts). Recorded
 * in the plugin list as soon as npm has it, so any refusal after that uninstalls it with npm.
 */
async function installLocal(config: Config, manager: PluginsManager, source: string, quiet: boolean): Promise<Installed> {
  const name = localPackageName(source)
  // Writes the data directory's package.json if missing: npm must not settle in a parent project.
  await manager.add()
  const url = `file:${source}`
  await manager.npm.install([url], {cwd: config.dataDir, logLevel: npmLogLevel(quiet), prod: true})
  await manager.add({name, type: 'user', url})
  const root = path.join(config.dataDir, 'node_modules', name)
  try {
    return {name, root, commands: (await Config.load({devPlugins: false, name, root, userPlugins: false})).commands}
  } catch (error) {
    await manager.uninstall(name).catch(() => {})
    throw error
  }
}

/** npm settings for every install: no lifecycle scripts, local folders copied (not symlinked), no network chatter. */
function quietNpm(): void {
  process.env.npm_config_ignore_scripts = 'true'
  process.env.npm_config_install_links = 'true'
  process.env.npm_config_update_notifier = 'false'
  process.env.npm_config_fund = 'false'
  process.env.npm_config_audit = 'false'
}

/** The user-info part of a URL (`https://user:token@host`): never shown. */
const URL_CREDENTIALS = /(\/\/)[^/@\s]+@/g

/** A spec as messages may show it: without any credentials in its URL. */
export function redactSpec(spec: string): string {
  return spec.replace(URL_CREDENTIALS, '$1[REDACTED]@')
}

export interface ManageOptions {
  force: boolean
  /** No npm output (the command prints JSON). */
  quiet: boolean
}

/** oclif takes only packages whose package.json has an `oclif` section (it may be empty). */
const NOT_A_PLUGIN_HINT = 'a plugin\'s package.json needs an "oclif" section, even an empty one: "oclif": {}'

export async function installPlugin(config: Config, spec: string, options: ManageOptions): Promise<PluginChange> {
  quietNpm()
  const manager = await pluginsManager(config, options.quiet)
  const source = localSource(spec)
  // Local sources need no registry (offline installs work); npm names and URLs go through plugin-plugins.
  const installing = source ? installLocal(config, manager, source, options.quiet) : manager.install(spec, {})
  const installed = await installing.catch((error: Error) => {
    if (error instanceof AivaultError) throw error
    const shown = redactSpec(spec)
    if (/plugin is invalid/i.test(error.message)) throw new AivaultError('invalid_request', `${shown} is not an oclif plugin`, {hint: NOT_A_PLUGIN_HINT})
    // npm and plugin-plugins quote the spec: a git or tarball URL may carry a token.
    throw new AivaultError('invalid_request', String(error.message).split(spec).join(shown).replace(URL_CREDENTIALS, '$1[REDACTED]@'))
  })
  const plugin = readPluginPackage(installed.root, 'user')
  try {
    if (!plugin) throw new AivaultError('invalid_request', `${redactSpec(spec)} installed no readable package.json`)
    if (!plugin.oclif) throw new AivaultError('invalid_request', `${redactSpec(spec)} is not an oclif plugin`, {hint: NOT_A_PLUGIN_HINT})
    return vet(config, plugin, commandIds(installed.commands), options.force)
  } catch (error) {
    await manager.uninstall(installed.name).catch(() => {})
    throw error
  }
}

export async function linkPlugin(config: Config, dir: string, options: ManageOptions): Promise<PluginChange> {
  const root = path.resolve(dir)
  const plugin = readPluginPackage(root, 'link')
  if (!plugin) throw new AivaultError('invalid_request', `${root} holds no readable package.json with a name`, {hint: 'link the folder of a plugin package'})
  if (!plugin.oclif) throw new AivaultError('invalid_request', `${plugin.name} is not an oclif plugin`, {hint: NOT_A_PLUGIN_HINT})
  const loaded = await Config.load(root)
  const change = vet(config, plugin, commandIds(loaded.commands), options.force)
  await (await pluginsManager(config, options.quiet)).link(root, {install: false})
  return change
}

/** Remove a plugin and forget its trust; not_found when it is not installed or linked. */
export async function uninstallPlugin(config: Config, name: string, quiet: boolean, env: NodeJS.ProcessEnv = process.env): Promise<{name: string; untrusted: boolean}> {
  findInstalledPlugin(name, env)
  quietNpm()
  await (await pluginsManager(config, quiet)).uninstall(name)
  return {name, untrusted: untrustPlugin(name, env)}
}

function commandIds(commands: ReadonlyArray<{id: string; aliases?: string[]; hiddenAliases?: string[]}>): string[] {
  return commands.flatMap((c) => [c.id, ...(c.aliases ?? []), ...(c.hiddenAliases ?? [])])
}

/** The rules a plugin must pass to be kept (see the module comment). */
function vet(config: Config, plugin: InstalledPlugin, commands: string[], force: boolean): PluginChange {
  if (plugin.problem) throw new AivaultError('invalid_request', `plugin ${plugin.name} ${plugin.problem}`)
  const overridden: string[] = []
  let providers: string[] = []
  if (plugin.registryDir) {
    const compiled = compilePlugin(plugin)
    if (compiled.refusal) throw new AivaultError('invalid_request', `plugin ${plugin.name}: ${compiled.refusal}`, {hint: 'fix the provider YAML (the pointer names the field), then try again'})
    const others = installedPlugins().filter((p) => p.name !== plugin.name && p.registryDir && !p.problem).map(compilePlugin)
    const merged = mergePluginProviders([...others, compiled], loadBuiltinRegistry())
    const refused = merged.refusals.filter((r) => r.plugin === plugin.name).map((r) => `provider "${r.provider}": ${r.reason}`)
    if (refused.length > 0 && !force) throw new AivaultError('conflict', `plugin ${plugin.name} refused: ${refused.join('; ')}`, {hint: 'rename the provider or its secrets; --force keeps the plugin without them'})
    overridden.push(...refused)
    providers = compiled.defs.map((d) => d.provider).filter((id) => !refused.some((r) => r.startsWith(`provider "${id}"`)))
  }
  const own = new Set(config.commands.filter((c) => c.pluginType === 'core').flatMap((c) => [c.id, ...c.aliases, ...(c.hiddenAliases ?? [])]))
  const shadowing = commands.filter((id) => own.has(id))
  if (shadowing.length > 0 && !force) {
    throw new AivaultError('conflict', `plugin ${plugin.name} would shadow aivault's own command${shadowing.length === 1 ? '' : 's'} ${shadowing.map((id) => id.replace(/:/g, ' ')).join(', ')}`, {
      hint: '--force installs it anyway (aivault\'s own command keeps running)',
    })
  }
  overridden.push(...shadowing.map((id) => `command "${id.replace(/:/g, ' ')}" stays aivault's own`))
  return {
    name: plugin.name,
    version: plugin.version,
    type: plugin.type,
    root: plugin.root,
    commands: commands.map((id) => id.replace(/:/g, ' ')),
    providers,
    hooks: Object.keys(plugin.hooks),
    overridden,
  }
}
