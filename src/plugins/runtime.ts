/**
 * What the installed plugins add to this process: their providers merged into the registry,
 * their hooks, and the refusals to warn about. Without plugins this is the built-in registry
 * and nothing else (one failed read of the data directory's package.json).
 */
import {loadBuiltinRegistry, Registry} from '../registry/registry'
import {lazyCatalog} from '../registry/vault-catalog'
import type {ProviderCatalog} from '../vault/catalog'
import {PluginHooks} from './hook-runner'
import {installedPlugins, InstalledPlugin, readPluginList} from './installed'
import {PluginRefusal, pluginProviders} from './plugin-registry'

export interface PluginRuntime {
  plugins: InstalledPlugin[]
  /** The built-in registry plus every plugin provider that was not refused. */
  registry: Registry
  /** Undefined when no plugin declares a hook: the broker then skips hooks entirely. */
  hooks?: PluginHooks
  refusals: PluginRefusal[]
}

const runtimes = new WeakMap<NodeJS.ProcessEnv, PluginRuntime>()

/** The plugin runtime of an environment, built once per process. */
export function loadPluginRuntime(env: NodeJS.ProcessEnv = process.env): PluginRuntime {
  let runtime = runtimes.get(env)
  if (!runtime) {
    runtime = buildRuntime(env)
    runtimes.set(env, runtime)
  }
  return runtime
}

/** The registry callers see: built-in providers and the plugins' accepted ones. */
export function loadRegistry(env: NodeJS.ProcessEnv = process.env): Registry {
  return loadPluginRuntime(env).registry
}

/** The registry as the vault services see it, plugin providers included, loaded on first use. */
export function registryCatalog(env: NodeJS.ProcessEnv = process.env): ProviderCatalog {
  return lazyCatalog(() => loadRegistry(env))
}

function buildRuntime(env: NodeJS.ProcessEnv): PluginRuntime {
  const builtin = loadBuiltinRegistry()
  const plugins = installedPlugins(env)
  if (plugins.length === 0) return {plugins, registry: builtin, refusals: []}
  const {providers, refusals} = pluginProviders(plugins, () => builtin, env)
  const registry = providers.length === 0 ? builtin : new Registry([...builtin.providers(), ...providers], builtin.digest)
  const hooked = plugins.some((p) => Object.keys(p.hooks).length > 0)
  return {plugins, registry, hooks: hooked ? new PluginHooks(plugins, env) : undefined, refusals}
}

/** One line per refusal, as `warn` prints it (`plugins list` shows the same reasons). */
export function refusalLines(refusals: readonly PluginRefusal[]): string[] {
  return refusals.map((r) => `plugin ${r.plugin}${r.provider ? `: provider "${r.provider}"` : ''} refused: ${r.reason} (see aivault plugins list)`)
}

/** The warning lines for refused plugins (none, at the cost of one failed read, when no plugin is installed). */
export function pluginWarnings(env: NodeJS.ProcessEnv = process.env): string[] {
  if (readPluginList(env).length === 0) return []
  const known = runtimes.get(env)
  return refusalLines(known ? known.refusals : pluginProviders(installedPlugins(env), () => loadBuiltinRegistry(), env).refusals)
}

/** The `Warning:` lines every command starts with (a plugin list that cannot be read is one too). */
export function startupWarnings(env: NodeJS.ProcessEnv = process.env): string[] {
  try {
    return pluginWarnings(env)
  } catch (error) {
    return [`plugins: ${(error as Error).message}`]
  }
}
