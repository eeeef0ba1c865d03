import type {Registry} from '../registry/registry'
import {loadBuiltinRegistry} from '../registry/registry'
import type {RunMode} from '../run-mode'
import {ONE_SHOT} from '../run-mode'
import {Vault} from '../vault/vault'

/**
 * What the broker works with: one vault, one registry, one environment (for credential
 * providers and test overrides), and how this process runs (the vault was made with the same mode).
 */
export interface BrokerDeps {
  vault: Vault
  registry: Registry
  env: NodeJS.ProcessEnv
  mode: RunMode
}

/** The broker's dependencies for this process's environment; long-lived processes use broker/long-lived.ts. */
export function brokerDepsFromEnv(env: NodeJS.ProcessEnv = process.env, mode: RunMode = ONE_SHOT): BrokerDeps {
  return {vault: Vault.fromEnv(env, {mode}), registry: loadBuiltinRegistry(), env, mode}
}
