import {AivaultError} from '../../errors'
import {capabilityHostProblem, narrowToPatterns} from '../../registry/host-pattern'
import type {Registry} from '../../registry/registry'
import type {CapabilityDef} from '../../registry/types'
import type {Vault} from '../../vault/vault'

/** A capability as the broker uses it: registry, plugin or custom (vault record). */
export interface ResolvedCapability extends CapabilityDef {
  custom: boolean
}

export function findCapability(vault: Vault, registry: Registry, id: string): ResolvedCapability {
  const builtin = registry.capability(id)
  if (builtin) return {...builtin, custom: false}
  if (vault.exists() && /^[A-Za-z0-9][A-Za-z0-9_.:/-]*$/.test(id)) {
    const custom = vault.capabilities.find(id)
    if (custom) return {id: custom.id, provider: custom.provider, allow: custom.allow, custom: true}
  }
  throw new AivaultError('capability_not_found', `no capability ${JSON.stringify(id)}`, {hint: 'see "aivault capability list"'})
}

const withoutPort = (host: string) => host.replace(/:\d+$/, '')

/**
 * The provider and hosts of a new custom capability (SPEC §6). `--credential c` only lends c's
 * provider and hosts (the capability is not tied to c); `--provider P` takes the registry's
 * hosts, or those of P's custom credentials. Every host, given or derived, must be a valid DNS
 * name or `*.suffix` pattern (never `*` alone), an IP literal only in a testing vault, and for
 * a registry provider one its patterns allow.
 */
export function customCapabilityTarget(vault: Vault, registry: Registry, input: {provider?: string; credential?: string; hosts: string[]}): {provider: string; hosts: string[]} {
  let provider = input.provider as string
  let derived: string[]
  if (input.credential) {
    const credential = vault.credentials.find(input.credential)
    if (!credential) throw new AivaultError('credential_not_found', `no credential ${input.credential}`, {hint: 'see "aivault credential list"'})
    provider = credential.provider
    const def = registry.provider(provider)
    derived = def ? narrowToPatterns(def.hosts, credential.hosts).hosts : credential.hosts
  } else {
    derived = registry.provider(provider)?.hosts ?? vault.credentials.list().records.filter((c) => c.provider === provider).flatMap((c) => c.hosts)
  }
  const hosts = [...new Set((input.hosts.length > 0 ? input.hosts : derived).map(withoutPort))].sort()
  if (hosts.length === 0) throw new AivaultError('invalid_request', `no hosts known for ${provider}`, {hint: 'pass --host, or create the credential first'})
  const rules = {providerPatterns: registry.provider(provider)?.hosts, testing: vault.config().testing}
  for (const host of hosts) {
    const problem = capabilityHostProblem(host, rules)
    if (problem) throw new AivaultError('policy_violation', `host ${host} for ${provider}: ${problem}`, {hint: rules.providerPatterns ? `use one of ${rules.providerPatterns.join(', ')}` : 'name the exact host name of the API'})
  }
  return {provider, hosts}
}
