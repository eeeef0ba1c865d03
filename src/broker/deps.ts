import {loadBuiltinRegistry} from '../registry/registry'
import {Vault} from '../vault/vault'
import type {BrokerDeps} from './pipeline'

/** The broker's dependencies for this process's environment. */
export function brokerDepsFromEnv(env: NodeJS.ProcessEnv = process.env): BrokerDeps {
  return {vault: Vault.fromEnv(env), registry: loadBuiltinRegistry(), env}
}
