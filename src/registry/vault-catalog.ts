import type {CatalogProvider, ProviderCatalog} from '../vault/catalog'
import {capabilityHostProblem, isPerTenant, narrowToPatterns} from './host-pattern'
import type {Registry} from './registry'
import {loadBuiltinRegistry} from './registry'

/** The registry as the vault services see it (claims, provisioning and host facts only). */
export function catalogOf(registry: Registry): ProviderCatalog {
  return {
    claimFor: (name) => {
      const claim = registry.claimFor(name)
      return claim ? {provider: claim.provider, placeholder: claim.placeholder} : undefined
    },
    provider: (id): CatalogProvider | undefined => {
      const def = registry.provider(id)
      if (!def) return undefined
      return {
        id: def.provider,
        vaultSecrets: def.vaultSecrets,
        auth: def.auth,
        hosts: def.hosts,
        capabilityCount: def.capabilities.length,
        perTenant: isPerTenant(def.hosts),
        narrowHosts: (recordHosts) => narrowToPatterns(def.hosts, recordHosts),
      }
    },
    capabilityHostProblem: (provider, host, testing) => capabilityHostProblem(host, {providerPatterns: registry.provider(provider)?.hosts, testing}),
  }
}

/** A registry's catalog, the registry loaded on first use (by default the built-in one: a JSON read, no YAML or ajv). */
export function lazyCatalog(load: () => Registry = () => loadBuiltinRegistry()): ProviderCatalog {
  let catalog: ProviderCatalog | undefined
  const get = () => (catalog ??= catalogOf(load()))
  return {
    claimFor: (name) => get().claimFor(name),
    provider: (id) => get().provider(id),
    capabilityHostProblem: (provider, host, testing) => get().capabilityHostProblem(provider, host, testing),
  }
}
