import type {ProviderCatalog} from './catalog'
import type {CredentialRecord} from './credential-record'
import type {SecretScope} from './scope'
import {sameScope, scopedCredentialId, scopeGroup, scopeWorkspace} from './scope'
import type {SecretMeta} from './secret-record'
import type {Vault} from './vault'

export interface ProvisionOutcome {
  provider: string
  credential: CredentialRecord | null
  /** True when this call wrote the credential (the "auto-provisioned" line). */
  created: boolean
  waitingFor: string[]
  capabilitiesEnabled: number
}

/**
 * Once every secret a provider claims exists in one scope, that scope gets the provider's
 * credential, referencing each component secret by placeholder (no composite copy). Runs
 * under the vault lock; rewrites nothing when the credential is already as it should be.
 */
export async function provisionProvider(
  vault: Vault,
  catalog: ProviderCatalog,
  providerId: string,
  scope: SecretScope,
  secrets: SecretMeta[],
): Promise<ProvisionOutcome> {
  const provider = catalog.provider(providerId)
  if (!provider) return {provider: providerId, credential: null, created: false, waitingFor: [], capabilitiesEnabled: 0}
  const refs: Record<string, string> = {}
  const waitingFor: string[] = []
  for (const [name, placeholder] of Object.entries(provider.vaultSecrets)) {
    const match = secrets.find((s) => s.pinnedProvider === providerId && sameScope(s.scope, scope) && s.name === name)
    if (match) refs[placeholder] = `vault:secret:${match.id}`
    else waitingFor.push(name)
  }
  if (waitingFor.length > 0) {
    return {provider: providerId, credential: null, created: false, waitingFor: waitingFor.sort(), capabilitiesEnabled: 0}
  }
  const id = scopedCredentialId(providerId, scope)
  const existing = vault.credentials.find(id)
  if (existing && JSON.stringify(existing.secretRefs) === JSON.stringify(sortKeys(refs))) {
    return {provider: providerId, credential: existing, created: false, waitingFor: [], capabilitiesEnabled: provider.capabilityCount}
  }
  const credential: CredentialRecord = {
    id,
    provider: providerId,
    auth: null,
    hosts: existing?.hosts ?? [],
    secretRefs: sortKeys(refs),
    workspaceId: scopeWorkspace(scope) ?? null,
    groupId: scopeGroup(scope) ?? null,
    autoProvisioned: true,
    createdAt: existing?.createdAt ?? new Date().toISOString(),
  }
  vault.credentials.write(credential)
  await vault.audit.append('credential.create', {credentialId: id, provider: providerId, autoProvisioned: true, scope})
  return {provider: providerId, credential, created: true, waitingFor: [], capabilitiesEnabled: provider.capabilityCount}
}

function sortKeys(refs: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(refs).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
}
