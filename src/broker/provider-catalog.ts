/** Browsing the provider registry: `aivault providers list|show` (issue 5). */
import {AivaultError} from '../errors'
import type {Registry} from '../registry/registry'
import type {ProviderDef} from '../registry/types'
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

function credentialIdsByProvider(vault: Vault): Map<string, string[]> {
  const byProvider = new Map<string, string[]>()
  for (const c of vault.exists() ? vault.credentials.list().records : []) byProvider.set(c.provider, [...(byProvider.get(c.provider) ?? []), c.id].sort())
  return byProvider
}

function summarize(p: ProviderDef, registry: Registry, credentials: Map<string, string[]>): ProviderSummary {
  return {
    provider: p.provider,
    title: p.title ?? null,
    auth: authKind(p.auth),
    secrets: Object.keys(p.vaultSecrets),
    hosts: [...p.hosts],
    capabilities: registry.capabilitiesOf(p.provider).length,
    credentials: credentials.get(p.provider) ?? [],
  }
}

export function listProviders(vault: Vault, registry: Registry): ProviderSummary[] {
  const credentials = credentialIdsByProvider(vault)
  return registry.providers().map((p) => summarize(p, registry, credentials))
}

export function showProvider(vault: Vault, registry: Registry, id: string): ProviderDetail {
  const p = registry.provider(id)
  if (!p) throw new AivaultError('not_found', `no provider ${JSON.stringify(id)}`, {hint: 'see "aivault providers list"'})
  return {
    ...summarize(p, registry, credentialIdsByProvider(vault)),
    docsUrl: p.docsUrl ?? null,
    description: p.description ?? null,
    setup: setupCommands(registry, p.provider),
    capabilityList: registry.capabilitiesOf(p.provider).map((c) => ({id: c.id, title: c.title ?? null, methods: [...c.allow.methods], pathPrefixes: [...c.allow.pathPrefixes]})),
  }
}
