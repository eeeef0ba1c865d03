import {loadPluginRuntime} from './runtime'
import {trustState} from './trust'

/** One installed plugin as `plugins list` shows it. */
export interface PluginListing {
  name: string
  version: string
  type: 'user' | 'link'
  root: string
  /** Providers it adds that were loaded. */
  providers: string[]
  /** Hook events it declares. */
  hooks: string[]
  /** Whether its provider hook may receive secrets now, and if not, why. */
  trust: {trusted: boolean; reason?: string}
  /** Why a provider (or the whole plugin) was not loaded. */
  refused: Array<{provider?: string; reason: string}>
}

export function listPlugins(env: NodeJS.ProcessEnv = process.env): PluginListing[] {
  const runtime = loadPluginRuntime(env)
  return runtime.plugins.map((plugin) => {
    const state = trustState(plugin, env)
    return {
      name: plugin.name,
      version: plugin.version,
      type: plugin.type,
      root: plugin.root,
      providers: runtime.registry
        .providers()
        .filter((p) => p.plugin === plugin.name)
        .map((p) => p.provider),
      hooks: Object.keys(plugin.hooks),
      trust: state.trusted ? {trusted: true} : {trusted: false, reason: state.reason},
      refused: runtime.refusals.filter((r) => r.plugin === plugin.name).map(({provider, reason}) => (provider ? {provider, reason} : {reason})),
    }
  })
}
