/**
 * What callers can invoke: `capability list` (Ready when a credential exists, Available when a
 * registry secret would activate it) and `capability describe` (SPEC §6, §15).
 */
import type {Registry} from '../registry/registry'
import type {CapabilityDef} from '../registry/types'
import type {Vault} from '../vault/vault'
import {findCapability} from './capabilities'

export interface CapabilityListing {
  ready: Array<{id: string; provider: string; credential: string}>
  available: Array<{id: string; provider: string; setup: string[]}>
}

export function setupCommands(registry: Registry, provider: string): string[] {
  const def = registry.provider(provider)
  if (!def) return [`aivault credential create <id> --provider ${provider} --secret-ref vault:secret:<id> --auth <strategy> --host <host>`]
  const perTenant = def.hosts.some((h) => h.startsWith('*.'))
  const commands = Object.keys(def.vaultSecrets).map((name) => `aivault secrets create --name ${name} --value-stdin`)
  if (perTenant) commands.push(`aivault credential create ${provider} --provider ${provider} --secret-ref vault:secret:<id> --host <tenant>${def.hosts.find((h) => h.startsWith('*.'))?.slice(1)}`)
  return commands
}

export function listCapabilities(vault: Vault, registry: Registry, filter: {provider?: string} = {}): CapabilityListing {
  const credentials = vault.exists() ? vault.credentials.list().records : []
  const custom = vault.exists() ? vault.capabilities.list().records : []
  const all: Array<CapabilityDef & {credential?: string | null}> = [
    ...registry.providers().flatMap((p) => registry.capabilitiesOf(p.provider)),
    ...custom.map((c) => ({id: c.id, provider: c.provider, allow: c.allow, credential: c.credential})),
  ].filter((c) => !filter.provider || c.provider === filter.provider)
  const listing: CapabilityListing = {ready: [], available: []}
  for (const capability of all.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    const credential = capability.credential ?? credentials.filter((c) => c.provider === capability.provider).map((c) => c.id).sort()[0]
    if (credential && credentials.some((c) => c.id === credential)) listing.ready.push({id: capability.id, provider: capability.provider, credential})
    else listing.available.push({id: capability.id, provider: capability.provider, setup: setupCommands(registry, capability.provider)})
  }
  return listing
}

export interface CapabilityDescription {
  id: string
  provider: string
  title: string | null
  description: string | null
  docsUrl: string | null
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
    methods: [...methods],
    hosts: [...hosts],
    pathPrefixes: [...pathPrefixes],
    requiredSecrets: Object.entries(provider?.vaultSecrets ?? {}).map(([name, placeholder]) => ({name, placeholder, command: `aivault secrets create --name ${name} --value-stdin`})),
    defaults: {method, path},
    examples,
  }
}
