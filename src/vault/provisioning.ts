import type {ProviderCatalog} from './catalog'
import {completeTenantCommand} from './catalog'
import type {CredentialRecord} from './store/credential-record'
import type {SecretScope} from './scope'
import {sameScope, scopedCredentialId, scopeGroup, scopeWorkspace} from './scope'
import type {SecretMeta} from './store/secret-record'
import type {Vault} from './vault'

export interface ProvisionOutcome {
  provider: string
  credential: CredentialRecord | null
  /** True when this call wrote the credential (the "auto-provisioned" line). */
  created: boolean
  /** Secret names still missing, or `tenant host` when only a per-tenant provider's host is (SPEC §4). */
  waitingFor: string[]
  /** The command that gives a per-tenant credential its host, while it has none. */
  completeWith: string | null
  /** 0 while anything is missing. */
  capabilitiesEnabled: number
}

/** What `waitingFor` holds while a per-tenant credential has no tenant host. */
export const TENANT_HOST = 'tenant host'

/**
 * Once every secret a provider claims exists in one scope, that scope gets the provider's
 * credential, referencing each component secret by placeholder (no composite copy). Runs
 * under the vault lock; rewrites nothing when the credential is already as it should be.
 * A per-tenant provider's credential serves nothing until it names its tenant host: it keeps
 * the host it had, or takes the one its secrets are all bound to, or else waits for
 * `aivault credential update <id> --host ...` (SPEC §4).
 */
export async function provisionProvider(
  vault: Vault,
  catalog: ProviderCatalog,
  providerId: string,
  scope: SecretScope,
  secrets: SecretMeta[],
): Promise<ProvisionOutcome> {
  const provider = catalog.provider(providerId)
  const outcome = (fields: Partial<ProvisionOutcome>): ProvisionOutcome => ({provider: providerId, credential: null, created: false, waitingFor: [], completeWith: null, capabilitiesEnabled: 0, ...fields})
  if (!provider) return outcome({})
  const refs: Record<string, string> = {}
  const waitingFor: string[] = []
  const tenants = new Set<string | undefined>()
  for (const [name, placeholder] of Object.entries(provider.vaultSecrets)) {
    const match = secrets.find((s) => s.pinnedProvider === providerId && sameScope(s.scope, scope) && s.name === name)
    if (match) {
      refs[placeholder] = `vault:secret:${match.id}`
      tenants.add(match.tenantHost)
    } else {
      waitingFor.push(name)
    }
  }
  if (waitingFor.length > 0) return outcome({waitingFor: waitingFor.sort()})
  const id = scopedCredentialId(providerId, scope)
  const existing = vault.credentials.find(id)
  const boundTo = tenants.size === 1 ? [...tenants][0] : undefined
  const hosts = existing && existing.hosts.length > 0 ? existing.hosts : boundTo ? [boundTo] : []
  const ready = (credential: CredentialRecord, created: boolean): ProvisionOutcome => {
    const tenant = provider.narrowHosts(credential.hosts).tenants[0]
    // A tenant host serves only secrets sealed to it (tenant-binding.ts): an unbound one still waits.
    if (provider.perTenant && (!tenant || [...tenants].some((t) => t !== tenant))) {
      return outcome({credential, created, waitingFor: [TENANT_HOST], completeWith: completeTenantCommand(id, provider, tenant)})
    }
    return outcome({credential, created, capabilitiesEnabled: provider.capabilityCount})
  }
  if (existing && JSON.stringify(existing.secretRefs) === JSON.stringify(sortKeys(refs)) && JSON.stringify(existing.hosts) === JSON.stringify(hosts)) {
    return ready(existing, false)
  }
  const credential: CredentialRecord = {
    id,
    provider: providerId,
    auth: null,
    hosts,
    secretRefs: sortKeys(refs),
    workspaceId: scopeWorkspace(scope) ?? null,
    groupId: scopeGroup(scope) ?? null,
    autoProvisioned: true,
    createdAt: existing?.createdAt ?? new Date().toISOString(),
  }
  vault.credentials.write(credential)
  await vault.audit.append('credential.create', {credentialId: id, provider: providerId, autoProvisioned: true, scope})
  return ready(credential, true)
}

function sortKeys(refs: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(refs).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
}
