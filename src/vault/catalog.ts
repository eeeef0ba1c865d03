import type {AuthSpec} from '../registry/types'

/**
 * What the vault needs to know about built-in (and plugin) providers, without depending on
 * the registry layer: the registry hands an implementation down to the vault services.
 */
export interface ProviderCatalog {
  /** The provider and placeholder a canonical secret name is claimed by. */
  claimFor(secretName: string): {provider: string; placeholder: string} | undefined
  provider(id: string): CatalogProvider | undefined
}

export interface CatalogProvider {
  id: string
  /** Canonical secret name -> placeholder. */
  vaultSecrets: Record<string, string>
  auth: AuthSpec
  hosts: string[]
  capabilityCount: number
}

/** A catalog with no providers (custom-only vaults, and tests of the store alone). */
export const EMPTY_CATALOG: ProviderCatalog = {
  claimFor: () => undefined,
  provider: () => undefined,
}
