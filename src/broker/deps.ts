import type {PluginHooks} from '../plugins/hook-runner'
import {loadPluginRuntime} from '../plugins/runtime'
import type {Registry} from '../registry/registry'
import type {RunMode} from '../run-mode'
import {ONE_SHOT} from '../run-mode'
import {Vault} from '../vault/vault'

/**
 * What the broker works with: one vault, one registry, one environment (for credential
 * providers and test overrides), and how this process runs (the vault was made with the same mode).
 */
export interface BrokerDeps {
  vault: Vault
  /** The built-in registry plus the providers installed plugins add. */
  registry: Registry
  env: NodeJS.ProcessEnv
  /** The installed plugins' hooks; undefined when no plugin has any. */
  hooks?: PluginHooks
  mode: RunMode
}

/**
 * The broker's dependencies for this process's environment, with its installed plugins;
 * long-lived processes use broker/long-lived.ts.
 */
export function brokerDepsFromEnv(env: NodeJS.ProcessEnv = process.env, mode: RunMode = ONE_SHOT): BrokerDeps {
  const {registry, hooks} = loadPluginRuntime(env)
  return {vault: Vault.fromEnv(env, {mode}), registry, env, hooks, mode}
}
