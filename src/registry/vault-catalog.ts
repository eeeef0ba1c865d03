import type {CatalogProvider, ProviderCatalog} from '../vault/catalog'
import type {Registry} from './registry'
import {loadBuiltinRegistry} from './registry'

/** The registry as the vault services see it (claims and provisioning facts only). */
export function catalogOf(registry: Registry): ProviderCatalog {
  return {
    claimFor: (name) => {
      const claim = registry.claimFor(name)
      return claim ? {provider: claim.provider, placeholder: claim.placeholder} : undefined
    },
    provider: (id): CatalogProvider | undefined => {
      const def = registry.provider(id)
      if (!def) return undefined
      return {id: def.provider, vaultSecrets: def.vaultSecrets, auth: def.auth, hosts: def.hosts, capabilityCount: def.capabilities.length}
    },
  }
}

/** The built-in registry's catalog, loaded on first use (a JSON read, no YAML or ajv). */
export function builtinCatalog(): ProviderCatalog {
  let catalog: ProviderCatalog | undefined
  const get = () => (catalog ??= catalogOf(loadBuiltinRegistry()))
  return {claimFor: (name) => get().claimFor(name), provider: (id) => get().provider(id)}
}
