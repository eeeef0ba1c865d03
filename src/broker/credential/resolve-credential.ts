import {AivaultError} from '../../errors'
import {narrowToPatterns} from '../../registry/host-pattern'
import type {Registry} from '../../registry/registry'
import type {AuthSpec} from '../../registry/types'
import type {Binding} from '../../vault/store/broker-records'
import type {CredentialRecord} from '../../vault/store/credential-record'
import {secretIdOfRef} from '../../vault/store/credential-record'
import type {Vault} from '../../vault/vault'
import type {ResolvedCapability} from './capabilities'

export interface InvocationContext {
  workspaceId?: string
  groupId?: string
  consumer?: string
  clientIp?: string
}

/** The credential an invocation uses, with auth and hosts as the registry or record define them. */
export interface ResolvedCredential {
  id: string
  provider: string
  auth: AuthSpec
  hosts: string[]
  /** Placeholder -> secret id. */
  secrets: Record<string, string>
  binding: string | null
  /** The tenant host of a per-tenant registry provider: its secrets must be sealed to it (material.ts). */
  tenantHost?: string
}

/** How specific a scope match is: a group credential beats a workspace one beats a global one. */
function scopeRank(record: {workspaceId: string | null; groupId: string | null}, ctx: InvocationContext): number {
  if (!record.workspaceId) return record.groupId ? -1 : 1
  if (record.workspaceId !== ctx.workspaceId) return -1
  if (!record.groupId) return 2
  return record.groupId === ctx.groupId ? 3 : -1
}

/** Whether a call in this scope may use the credential (`capability list` in a scope, MCP's tools). */
export function usableInScope(record: {workspaceId: string | null; groupId: string | null}, ctx: InvocationContext): boolean {
  return scopeRank(record, ctx) >= 0
}

function bindingRank(binding: Binding, ctx: InvocationContext): number {
  const scope = scopeRank(binding, ctx)
  if (scope < 0) return -1
  if (binding.consumer && binding.consumer !== ctx.consumer) return -1
  return scope * 2 + (binding.consumer ? 1 : 0)
}

/**
 * A credential record as the broker uses it. Registry providers always use the built-in auth,
 * and the registry's hosts or the tenant hosts the record narrows them to: hosts a record names
 * outside the registry's patterns are ignored (SPEC §4, §5; `doctor` reports them).
 */
function view(record: CredentialRecord, registry: Registry, binding: string | null): ResolvedCredential {
  const provider = registry.provider(record.provider)
  const auth = provider ? provider.auth : record.auth
  if (!auth) throw new AivaultError('auth_failed', `credential ${record.id} has no auth strategy`, {hint: 'recreate it with --auth'})
  const secrets: Record<string, string> = {}
  for (const [placeholder, ref] of Object.entries(record.secretRefs)) {
    const id = secretIdOfRef(ref)
    if (id) secrets[placeholder] = id
  }
  if (!provider) return {id: record.id, provider: record.provider, auth, hosts: record.hosts, secrets, binding}
  const {hosts, tenants} = narrowToPatterns(provider.hosts, record.hosts)
  if (tenants.length > 1) {
    throw new AivaultError('policy_violation', `credential ${record.id} names ${tenants.length} tenant hosts (${tenants.join(', ')}); a ${provider.provider} credential names one`, {
      hint: `keep one with "aivault credential update ${record.id} --host <host>"`,
    })
  }
  return {id: record.id, provider: record.provider, auth, hosts, secrets, binding, ...(tenants.length === 1 ? {tenantHost: tenants[0]} : {})}
}

/**
 * SPEC §6 resolution order: explicit credential; then a binding for the capability (group >
 * workspace > global, consumer-specific > generic); then the most specific scoped credential of
 * the capability's provider; ties are `credential_ambiguous`, listing the candidates. A custom
 * capability is never tied to one credential: any credential of its provider may serve it.
 */
export function resolveCredential(
  vault: Vault,
  registry: Registry,
  capability: ResolvedCapability,
  explicit: string | undefined,
  ctx: InvocationContext,
): ResolvedCredential {
  if (explicit) return view(loadUsable(vault, capability, explicit, ctx), registry, null)

  const bindings = vault.exists() ? vault.bindings.list().records.filter((b) => b.capability === capability.id) : []
  const ranked = bindings.map((b) => ({b, rank: bindingRank(b, ctx)})).filter((x) => x.rank >= 0).sort((x, y) => y.rank - x.rank)
  const binding = ranked[0]?.b
  if (binding?.credential) return view(loadUsable(vault, capability, binding.credential, ctx), registry, binding.id)
  if (!binding?.secretRef) {
    const chosen = bestScoped(vault, registry, capability, ctx)
    if (!chosen) throw noCredential(registry, capability)
    return chosen
  }

  // A binding that picks a secret: the provider's credential that uses it (SPEC §6), else the
  // credential resolution would choose, with the bound secret in place of its own.
  const secretId = secretIdOfRef(binding.secretRef) as string
  const user = bestScoped(vault, registry, capability, ctx, (c) => Object.values(c.secretRefs).some((ref) => secretIdOfRef(ref) === secretId))
  if (user) return {...user, binding: binding.id}
  const base = bestScoped(vault, registry, capability, ctx) ?? bindingOnly(registry, capability, binding)
  const placeholders = Object.keys(base.secrets)
  if (placeholders.length !== 1) {
    throw new AivaultError('policy_violation', `binding ${binding.id} names one secret, but ${base.provider} credentials need ${placeholders.join(', ')}`)
  }
  return {...base, secrets: {[placeholders[0]]: secretId}, binding: binding.id}
}

function loadUsable(vault: Vault, capability: ResolvedCapability, id: string, ctx: InvocationContext): CredentialRecord {
  const record = vault.exists() ? vault.credentials.find(id) : undefined
  if (!record) throw new AivaultError('credential_not_found', `no credential ${id}`, {hint: 'see "aivault credential list"'})
  if (record.provider !== capability.provider) {
    throw new AivaultError('policy_violation', `credential ${id} is for provider ${record.provider}, not ${capability.provider}`)
  }
  if (scopeRank(record, ctx) < 0) {
    throw new AivaultError('secret_not_accessible', `credential ${id} is not available to this workspace/group`)
  }
  return record
}

/**
 * The most specific scoped credential of the capability's provider among those `accept`s, or
 * undefined when there is none; several equally specific ones are `credential_ambiguous`.
 */
function bestScoped(vault: Vault, registry: Registry, capability: ResolvedCapability, ctx: InvocationContext, accept: (c: CredentialRecord) => boolean = () => true): ResolvedCredential | undefined {
  const candidates = (vault.exists() ? vault.credentials.list().records : [])
    .filter((c) => c.provider === capability.provider && accept(c))
    .map((c) => ({c, rank: scopeRank(c, ctx)}))
    .filter((x) => x.rank >= 0)
  const top = Math.max(...candidates.map((x) => x.rank), -1)
  const best = candidates.filter((x) => x.rank === top).map((x) => x.c)
  if (best.length === 1) return view(best[0], registry, null)
  if (best.length > 1) {
    throw new AivaultError('credential_ambiguous', `several credentials can serve ${capability.id}: ${best.map((c) => c.id).sort().join(', ')}`, {
      hint: 'pass --credential, or bind one with "aivault capability bind"',
    })
  }
  return undefined
}

function noCredential(registry: Registry, capability: ResolvedCapability): AivaultError {
  const provider = registry.provider(capability.provider)
  const names = provider ? Object.keys(provider.vaultSecrets) : []
  return new AivaultError('credential_not_found', `no credential for provider ${capability.provider}`, {
    hint: provider ? `store it: aivault secrets create --name ${names[0]} --value-stdin (needs ${names.join(' and ')})` : 'create one with "aivault credential create"',
  })
}

/** A binding's secret with no stored credential: the registry still defines auth and hosts. */
function bindingOnly(registry: Registry, capability: ResolvedCapability, binding: Binding): ResolvedCredential {
  const provider = registry.provider(capability.provider)
  if (!provider) throw noCredential(registry, capability)
  return {id: `${provider.provider}@binding`, provider: provider.provider, auth: provider.auth, hosts: provider.hosts, secrets: {[Object.values(provider.vaultSecrets)[0]]: ''}, binding: binding.id}
}
