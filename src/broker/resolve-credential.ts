import {AivaultError} from '../errors'
import type {Registry} from '../registry/registry'
import type {AuthSpec} from '../registry/types'
import type {Binding} from '../vault/broker-records'
import type {CredentialRecord} from '../vault/credential-record'
import {secretIdOfRef} from '../vault/credential-record'
import type {Vault} from '../vault/vault'
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
}

/** How specific a scope match is: a group credential beats a workspace one beats a global one. */
function scopeRank(record: {workspaceId: string | null; groupId: string | null}, ctx: InvocationContext): number {
  if (!record.workspaceId) return record.groupId ? -1 : 1
  if (record.workspaceId !== ctx.workspaceId) return -1
  if (!record.groupId) return 2
  return record.groupId === ctx.groupId ? 3 : -1
}

function bindingRank(binding: Binding, ctx: InvocationContext): number {
  const scope = scopeRank(binding, ctx)
  if (scope < 0) return -1
  if (binding.consumer && binding.consumer !== ctx.consumer) return -1
  return scope * 2 + (binding.consumer ? 1 : 0)
}

function view(record: CredentialRecord, registry: Registry, binding: string | null): ResolvedCredential {
  const provider = registry.provider(record.provider)
  const auth = provider ? provider.auth : record.auth
  if (!auth) throw new AivaultError('auth_failed', `credential ${record.id} has no auth strategy`, {hint: 'recreate it with --auth'})
  const secrets: Record<string, string> = {}
  for (const [placeholder, ref] of Object.entries(record.secretRefs)) {
    const id = secretIdOfRef(ref)
    if (id) secrets[placeholder] = id
  }
  // Registry providers always use the built-in auth and hosts (SPEC §4); --host may only narrow.
  const hosts = provider ? (record.hosts.length > 0 ? record.hosts : provider.hosts) : record.hosts
  return {id: record.id, provider: record.provider, auth, hosts, secrets, binding}
}

/**
 * SPEC §6 resolution order: explicit credential; then a binding for the capability (group >
 * workspace > global, consumer-specific > generic); then the most specific scoped credential of
 * the capability's provider; ties are `credential_ambiguous`, listing the candidates.
 */
export function resolveCredential(
  vault: Vault,
  registry: Registry,
  capability: ResolvedCapability,
  explicit: string | undefined,
  ctx: InvocationContext,
): ResolvedCredential {
  const load = (id: string): CredentialRecord => {
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
  if (explicit && capability.credential && explicit !== capability.credential) {
    throw new AivaultError('policy_violation', `${capability.id} is served only by credential ${capability.credential}`)
  }
  const wanted = explicit ?? capability.credential ?? undefined
  if (wanted) return view(load(wanted), registry, null)

  const bindings = vault.exists() ? vault.bindings.list().records.filter((b) => b.capability === capability.id) : []
  const ranked = bindings.map((b) => ({b, rank: bindingRank(b, ctx)})).filter((x) => x.rank >= 0).sort((x, y) => y.rank - x.rank)
  const binding = ranked[0]?.b
  if (binding?.credential) return view(load(binding.credential), registry, binding.id)

  const base = bestScoped(vault, registry, capability, ctx, binding?.secretRef ? binding : undefined)
  if (!binding?.secretRef) return base
  const secretId = secretIdOfRef(binding.secretRef) as string
  const placeholders = Object.keys(base.secrets)
  if (placeholders.length !== 1) {
    throw new AivaultError('policy_violation', `binding ${binding.id} names one secret, but ${base.provider} credentials need ${placeholders.join(', ')}`)
  }
  return {...base, secrets: {[placeholders[0]]: secretId}, binding: binding.id}
}

function bestScoped(vault: Vault, registry: Registry, capability: ResolvedCapability, ctx: InvocationContext, binding?: Binding): ResolvedCredential {
  const candidates = (vault.exists() ? vault.credentials.list().records : [])
    .filter((c) => c.provider === capability.provider)
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
  const provider = registry.provider(capability.provider)
  if (binding && provider) {
    // A binding's secret with no stored credential: the registry still defines auth and hosts.
    return {id: `${provider.provider}@binding`, provider: provider.provider, auth: provider.auth, hosts: provider.hosts, secrets: {[Object.values(provider.vaultSecrets)[0]]: ''}, binding: binding.id}
  }
  const names = provider ? Object.keys(provider.vaultSecrets).join(' and ') : undefined
  throw new AivaultError('credential_not_found', `no credential for provider ${capability.provider}`, {
    hint: names ? `store it: aivault secrets create --name ${Object.keys(provider!.vaultSecrets)[0]} --value-stdin (needs ${names})` : 'create one with "aivault credential create"',
  })
}
