import type {AuthSpec} from '../registry/types'

/**
 * What the vault needs to know about built-in (and plugin) providers, without depending on
 * the registry layer: the registry hands an implementation down to the vault services.
 */
export interface ProviderCatalog {
  /** The provider and placeholder a canonical secret name is claimed by. */
  claimFor(secretName: string): {provider: string; placeholder: string} | undefined
  provider(id: string): CatalogProvider | undefined
  /** Why a custom capability of `provider` may not name `host` (SPEC §6), or undefined. */
  capabilityHostProblem(provider: string, host: string, testing: boolean): string | undefined
}

export interface CatalogProvider {
  id: string
  /** Canonical secret name -> placeholder. */
  vaultSecrets: Record<string, string>
  auth: AuthSpec
  hosts: string[]
  capabilityCount: number
  /** Hosts given only as patterns (`*.zendesk.com`): a credential needs a tenant host first (SPEC §4). */
  perTenant: boolean
  /** The hosts a credential record names, as the registry lets them be used. */
  narrowHosts(recordHosts: readonly string[]): {hosts: string[]; ignored: string[]; tenants: string[]}
}

/** `<tenant>.zendesk.com` for `*.zendesk.com`: how help text names a per-tenant provider's host. */
export function tenantHostExample(provider: CatalogProvider | {hosts: readonly string[]}): string {
  const pattern = provider.hosts.find((h) => h.startsWith('*.')) ?? provider.hosts[0]
  return pattern.startsWith('*.') ? `<tenant>${pattern.slice(1)}` : pattern
}

/** The command that gives a waiting per-tenant credential its host (binding its secrets to it). */
export function completeTenantCommand(credentialId: string, provider: CatalogProvider | {hosts: readonly string[]}, host?: string): string {
  return `aivault credential update ${credentialId} --host ${host ?? tenantHostExample(provider)}`
}
