/** Browsing the provider registry: `aivault providers list|show` (issue 5). */
import {AivaultError} from '../errors'
import type {Registry} from '../registry/registry'
import {authKind} from '../registry/types'
import type {Vault} from '../vault/vault'
import {setupCommands} from './capability-catalog'

export interface ProviderSummary {
  provider: string
  title: string | null
  auth: string
  secrets: string[]
  hosts: string[]
  capabilities: number
  credentials: string[]
}

export interface ProviderDetail extends ProviderSummary {
  docsUrl: string | null
  description: string | null
  setup: string[]
  capabilityList: Array<{id: string; title: string | null; methods: string[]; pathPrefixes: string[]}>
}

function credentialsOf(vault: Vault, provider: string): string[] {
  return vault.exists() ? vault.credentials.list().records.filter((c) => c.provider === provider).map((c) => c.id).sort() : []
}

export function listProviders(vault: Vault, registry: Registry): ProviderSummary[] {
  return registry.providers().map((p) => ({
    provider: p.provider,
    title: p.title ?? null,
    auth: authKind(p.auth),
    secrets: Object.keys(p.vaultSecrets),
    hosts: [...p.hosts],
    capabilities: registry.capabilitiesOf(p.provider).length,
    credentials: credentialsOf(vault, p.provider),
  }))
}

export function showProvider(vault: Vault, registry: Registry, id: string): ProviderDetail {
  const p = registry.provider(id)
  if (!p) throw new AivaultError('not_found', `no provider ${JSON.stringify(id)}`, {hint: 'see "aivault providers list"'})
  return {
    provider: p.provider,
    title: p.title ?? null,
    docsUrl: p.docsUrl ?? null,
    description: p.description ?? null,
    auth: authKind(p.auth),
    secrets: Object.keys(p.vaultSecrets),
    hosts: [...p.hosts],
    capabilities: registry.capabilitiesOf(p.provider).length,
    credentials: credentialsOf(vault, p.provider),
    setup: setupCommands(registry, p.provider),
    capabilityList: registry.capabilitiesOf(p.provider).map((c) => ({id: c.id, title: c.title ?? null, methods: [...c.allow.methods], pathPrefixes: [...c.allow.pathPrefixes]})),
  }
}
