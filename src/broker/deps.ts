import type {PluginHooks} from '../plugins/hook-runner'
import {loadPluginRuntime} from '../plugins/runtime'
import type {Registry} from '../registry/registry'
import {Vault} from '../vault/vault'

/** What the broker works with: one vault, one registry, one environment (for credential providers and test overrides). */
export interface BrokerDeps {
  vault: Vault
  /** The built-in registry plus the providers installed plugins add. */
  registry: Registry
  env: NodeJS.ProcessEnv
  /** The installed plugins' hooks; undefined when no plugin has any. */
  hooks?: PluginHooks
}

/** The broker's dependencies for this process's environment, with its installed plugins. */
export function brokerDepsFromEnv(env: NodeJS.ProcessEnv = process.env): BrokerDeps {
  const {registry, hooks} = loadPluginRuntime(env)
  return {vault: Vault.fromEnv(env), registry, env, hooks}
}
