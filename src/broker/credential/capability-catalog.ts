/**
 * What callers can invoke: `capability list` (Ready when a credential serves it, Waiting while
 * a per-tenant provider's credential has no tenant host, Available when a registry secret would
 * activate it) and `capability describe` (SPEC §4, §6, §15).
 */
import {AivaultError} from '../../errors'
import {isPerTenant, narrowToPatterns} from '../../registry/host-pattern'
import type {Registry} from '../../registry/registry'
import type {CapabilityDef} from '../../registry/types'
import {completeTenantCommand} from '../../vault/catalog'
import type {CredentialRecord} from '../../vault/store/credential-record'
import type {Vault} from '../../vault/vault'
import {findCapability} from './capabilities'
import type {InvocationContext} from './resolve-credential'
import {usableInScope} from './resolve-credential'

/**
 * `plugin`: the package that adds the capability's provider, and `transport: 'plugin'` when its
 * provider hook answers instead of HTTP; both present only for plugin providers.
 */
interface FromPlugin {
  plugin?: string
  transport?: 'plugin'
}

export interface CapabilityListing {
  ready: Array<{id: string; provider: string; credential: string} & FromPlugin>
  /** Per-tenant providers whose credentials name no tenant host yet: `setup` completes one. */
  waiting: Array<{id: string; provider: string; credential: string; setup: string[]} & FromPlugin>
  available: Array<{id: string; provider: string; setup: string[]} & FromPlugin>
}

/** How to enable a provider from nothing: store its secrets, and for a per-tenant one name the tenant. */
export function setupCommands(registry: Registry, provider: string): string[] {
  const def = registry.provider(provider)
  if (!def) return [`aivault credential create <id> --provider ${provider} --secret-ref vault:secret:<id> --auth <strategy> --host <host>`]
  const commands = Object.keys(def.vaultSecrets).map((name) => `aivault secrets create --name ${name} --value-stdin`)
  // Storing the secrets auto-provisions the credential `<provider>`; it waits for its host.
  if (isPerTenant(def.hosts)) commands.push(completeTenantCommand(provider, def))
  return commands
}

/** Whether a credential serves calls: a per-tenant provider's needs its tenant host first (SPEC §4). */
export function credentialWaits(registry: Registry, credential: Pick<CredentialRecord, 'provider' | 'hosts'>): boolean {
  const def = registry.provider(credential.provider)
  return def !== undefined && isPerTenant(def.hosts) && narrowToPatterns(def.hosts, credential.hosts).tenants.length === 0
}

/**
 * `scope`: only credentials a call in that scope may use make a capability ready (MCP's tools);
 * without it every credential counts, whatever its scope.
 */
export function listCapabilities(vault: Vault, registry: Registry, filter: {provider?: string; scope?: InvocationContext} = {}): CapabilityListing {
  const {scope} = filter
  const credentials = vault.exists() ? vault.credentials.list().records.filter((c) => !scope || usableInScope(c, scope)) : []
  const custom = vault.exists() ? vault.capabilities.list().records : []
  const all: CapabilityDef[] = [
    ...registry.providers().flatMap((p) => registry.capabilitiesOf(p.provider)),
    ...custom.map((c) => ({id: c.id, provider: c.provider, allow: c.allow})),
  ].filter((c) => !filter.provider || c.provider === filter.provider)
  // An unknown provider is a mistake to report, as `providers show` does, not an empty listing.
  if (filter.provider && all.length === 0 && !registry.provider(filter.provider)) {
    throw new AivaultError('not_found', `no provider ${JSON.stringify(filter.provider)}`, {hint: 'see "aivault providers list"'})
  }
  const byProvider = new Map<string, {serving?: string; waiting?: string}>()
  for (const c of [...credentials].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    const entry = byProvider.get(c.provider) ?? {}
    if (credentialWaits(registry, c)) entry.waiting ??= c.id
    else entry.serving ??= c.id
    byProvider.set(c.provider, entry)
  }
  const listing: CapabilityListing = {ready: [], waiting: [], available: []}
  for (const capability of all.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    const {id, provider} = capability
    const found = byProvider.get(provider)
    const plugin = registry.provider(provider)?.plugin
    const from: FromPlugin = plugin ? {plugin, ...(capability.transport === 'plugin' ? {transport: 'plugin' as const} : {})} : {}
    if (found?.serving) listing.ready.push({id, provider, credential: found.serving, ...from})
    else if (found?.waiting) listing.waiting.push({id, provider, credential: found.waiting, setup: [completeTenantCommand(found.waiting, registry.provider(provider)!)], ...from})
    else listing.available.push({id, provider, setup: setupCommands(registry, provider), ...from})
  }
  return listing
}

/** Of these capabilities, those no credential serves yet, with the commands that would (token mint warns). */
export function unservedCapabilities(vault: Vault, registry: Registry, ids: string[]): Array<{id: string; setup: string[]}> {
  const listing = listCapabilities(vault, registry)
  const ready = new Set(listing.ready.map((c) => c.id))
  const setup = new Map([...listing.waiting, ...listing.available].map((c) => [c.id, c.setup]))
  return [...new Set(ids)].filter((id) => !ready.has(id)).map((id) => ({id, setup: setup.get(id) ?? []}))
}

export interface CapabilityDescription {
  id: string
  provider: string
  title: string | null
  description: string | null
  docsUrl: string | null
  /** The plugin package that adds the provider; null for built-in and vault-defined capabilities. */
  plugin: string | null
  /** `plugin`: the plugin's provider hook answers instead of an HTTP upstream. */
  transport: 'http' | 'plugin'
  methods: string[]
  hosts: string[]
  pathPrefixes: string[]
  requiredSecrets: Array<{name: string; placeholder: string; command: string}>
  defaults: {method: string | null; path: string | null}
  examples: Array<{title: string; command: string}>
}

export function describeCapability(vault: Vault, registry: Registry, id: string): CapabilityDescription {
  const capability = findCapability(vault, registry, id)
  const provider = registry.provider(capability.provider)
  const {methods, hosts, pathPrefixes} = capability.allow
  const method = methods.length === 1 ? methods[0] : null
  const path = pathPrefixes.length === 1 ? pathPrefixes[0] : null
  const examplePath = (path ?? pathPrefixes[0]).replace(/\/$/, '') || '/'
  const examples = [{title: 'Call it and print the body', command: `aivault invoke ${id}${method ? '' : ` --method ${methods[0]}`}${path ? '' : ` --path ${examplePath}`}`}]
  const writes = methods.find((m) => m !== 'GET' && m !== 'DELETE')
  if (writes) {
    examples.push({title: 'Send a JSON body', command: `aivault invoke ${id} --method ${writes} --path ${examplePath} --header content-type=application/json --body '{...}'`})
  }
  examples.push({title: 'Status and parsed JSON', command: `aivault json ${id}${method ? '' : ` --method ${methods[0]}`} --path ${examplePath}`})
  return {
    id: capability.id,
    provider: capability.provider,
    title: capability.title ?? null,
    description: capability.description ?? null,
    docsUrl: provider?.docsUrl ?? null,
    plugin: provider?.plugin ?? null,
    transport: capability.transport === 'plugin' ? 'plugin' : 'http',
    methods: [...methods],
    hosts: [...hosts],
    pathPrefixes: [...pathPrefixes],
    requiredSecrets: Object.entries(provider?.vaultSecrets ?? {}).map(([name, placeholder]) => ({name, placeholder, command: `aivault secrets create --name ${name} --value-stdin`})),
    defaults: {method, path},
    examples,
  }
}
