/** Browsing the provider registry: `aivault providers list|show` (issue 5). */
import {AivaultError} from '../../errors'
import type {Registry} from '../../registry/registry'
import type {ProviderDef} from '../../registry/types'
import {authKind} from '../../registry/types'
import {completeTenantCommand} from '../../vault/catalog'
import type {Vault} from '../../vault/vault'
import {credentialWaits, setupCommands} from './capability-catalog'

/** `ready`: a credential serves calls; `waiting`: only credentials that need a tenant host (SPEC §4). */
export type ProviderState = 'ready' | 'waiting' | 'not set up'

export interface ProviderSummary {
  provider: string
  title: string | null
  /** The plugin package that adds the provider; null for a built-in one. */
  plugin: string | null
  auth: string
  secrets: string[]
  hosts: string[]
  capabilities: number
  credentials: string[]
  state: ProviderState
}

export interface ProviderDetail extends ProviderSummary {
  docsUrl: string | null
  description: string | null
  /** The commands that make the provider ready from its current state (none when ready). */
  setup: string[]
  capabilityList: Array<{id: string; title: string | null; methods: string[]; pathPrefixes: string[]; transport: 'http' | 'plugin'}>
}

interface ProviderCredentials {
  ids: string[]
  waiting: string[]
}

function credentialsByProvider(vault: Vault, registry: Registry): Map<string, ProviderCredentials> {
  const byProvider = new Map<string, ProviderCredentials>()
  const records = vault.exists() ? vault.credentials.list().records : []
  for (const c of records.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    const entry = byProvider.get(c.provider) ?? {ids: [], waiting: []}
    entry.ids.push(c.id)
    if (credentialWaits(registry, c)) entry.waiting.push(c.id)
    byProvider.set(c.provider, entry)
  }
  return byProvider
}

function summarize(p: ProviderDef, registry: Registry, credentials: Map<string, ProviderCredentials>): ProviderSummary {
  const mine = credentials.get(p.provider) ?? {ids: [], waiting: []}
  return {
    provider: p.provider,
    title: p.title ?? null,
    plugin: p.plugin ?? null,
    auth: authKind(p.auth),
    secrets: Object.keys(p.vaultSecrets),
    hosts: [...p.hosts],
    capabilities: registry.capabilitiesOf(p.provider).length,
    credentials: mine.ids,
    state: mine.ids.length === 0 ? 'not set up' : mine.waiting.length === mine.ids.length ? 'waiting' : 'ready',
  }
}

export function listProviders(vault: Vault, registry: Registry): ProviderSummary[] {
  const credentials = credentialsByProvider(vault, registry)
  return registry.providers().map((p) => summarize(p, registry, credentials))
}

export function showProvider(vault: Vault, registry: Registry, id: string): ProviderDetail {
  const p = registry.provider(id)
  if (!p) throw new AivaultError('not_found', `no provider ${JSON.stringify(id)}`, {hint: 'see "aivault providers list"'})
  const credentials = credentialsByProvider(vault, registry)
  const summary = summarize(p, registry, credentials)
  const waiting = credentials.get(p.provider)?.waiting ?? []
  const setup = summary.state === 'ready' ? [] : summary.state === 'waiting' ? waiting.map((c) => completeTenantCommand(c, p)) : setupCommands(registry, p.provider)
  return {
    ...summary,
    docsUrl: p.docsUrl ?? null,
    description: p.description ?? null,
    setup,
    capabilityList: registry.capabilitiesOf(p.provider).map((c) => ({id: c.id, title: c.title ?? null, methods: [...c.allow.methods], pathPrefixes: [...c.allow.pathPrefixes], transport: c.transport === 'plugin' ? 'plugin' : 'http'})),
  }
}
