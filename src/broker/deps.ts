import type {Registry} from '../registry/registry'
import {loadBuiltinRegistry} from '../registry/registry'
import {Vault} from '../vault/vault'

/** What the broker works with: one vault, one registry, one environment (for credential providers and test overrides). */
export interface BrokerDeps {
  vault: Vault
  registry: Registry
  env: NodeJS.ProcessEnv
}

/** The broker's dependencies for this process's environment. */
export function brokerDepsFromEnv(env: NodeJS.ProcessEnv = process.env): BrokerDeps {
  return {vault: Vault.fromEnv(env), registry: loadBuiltinRegistry(), env}
}
