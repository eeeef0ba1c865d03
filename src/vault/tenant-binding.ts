/**
 * Per-tenant keys (SPEC §4, hardened). A provider whose hosts are only patterns
 * (`*.zendesk.com`, `*.supabase.co`) would send its key to whichever tenant a credential names,
 * so once a credential names a concrete tenant host, its secrets are bound to that tenant.
 *
 * Where the binding lives: in the secret record, as `tenantHost`, which is part of the sealed
 * value's associated data (seal.ts). Binding re-seals the value under a fresh data key with the
 * host added, so editing or removing the field afterwards makes the value fail to open
 * (`vault_tampered`): no edited credential or secret file moves a bound key to another tenant.
 * The broker (material.ts) sends a secret to a tenant host only when it is sealed to exactly
 * that host, and never sends an unbound secret to a tenant host. Creating or updating a
 * credential also refuses a tenant host other than the one another credential using the same
 * secret names (covers vaults written before bindings existed).
 * Not covered: putting back an older copy of the secret file, from before it was bound (e.g.
 * from git history), unbinds it; a credential command is then needed to bind it again, and it
 * is refused while another credential using the secret names another tenant.
 */
import {AivaultError} from '../errors'
import type {ProviderCatalog} from './catalog'
import type {CredentialRecord} from './store/credential-record'
import {secretIdOfRef} from './store/credential-record'
import type {SecretRecord} from './store/secret-record'
import type {Vault} from './vault'

/** The one tenant host a registry provider's credential names, or null (custom provider, or none yet). */
export function credentialTenant(record: Pick<CredentialRecord, 'provider' | 'hosts'>, catalog: ProviderCatalog): string | null {
  return catalog.provider(record.provider)?.narrowHosts(record.hosts).tenants[0] ?? null
}

function secretIdsOf(refs: Record<string, string>): string[] {
  return [...new Set(Object.values(refs).map(secretIdOfRef).filter((id): id is string => id !== undefined))]
}

const ONE_TENANT_HINT = 'a key belongs to one tenant: store the other tenant\'s key as its own secret and use that'

/**
 * Bind the secrets of credential `credentialId` (about to name `tenant`) to that tenant; with
 * no tenant, only check that none of them is bound to one. Runs under the vault lock; checks
 * every secret before changing any. Returns the secrets it bound (those already bound to
 * `tenant` are left as they are).
 */
export async function bindSecretsToTenant(
  vault: Vault,
  catalog: ProviderCatalog,
  credentialId: string,
  refs: Record<string, string>,
  tenant: string | null,
): Promise<SecretRecord[]> {
  const ids = secretIdsOf(refs)
  const records = ids.map((id) => vault.secrets.read(id))
  for (const record of records) {
    if (record.tenantHost && record.tenantHost !== tenant) {
      throw new AivaultError('policy_violation', `secret ${record.name} is bound to tenant host ${record.tenantHost}${tenant ? `, not ${tenant}` : ''}`, {hint: ONE_TENANT_HINT})
    }
  }
  if (!tenant) return []
  for (const other of vault.credentials.list().records) {
    if (other.id === credentialId || !secretIdsOf(other.secretRefs).some((id) => ids.includes(id))) continue
    const theirs = credentialTenant(other, catalog)
    if (theirs && theirs !== tenant) {
      throw new AivaultError('policy_violation', `credential ${other.id} sends the same secret to tenant host ${theirs}, not ${tenant}`, {hint: ONE_TENANT_HINT})
    }
  }
  const unbound = records.filter((r) => r.tenantHost !== tenant)
  const sealed = []
  for (const record of unbound) sealed.push(await vault.sealForTenant(record, tenant))
  const now = new Date().toISOString()
  for (const [i, record] of unbound.entries()) {
    vault.secrets.write({...record, tenantHost: tenant, updatedAt: now, sealed: sealed[i]})
    await vault.audit.append('secret.bind_tenant', {secretId: record.id, name: record.name, tenantHost: tenant, credentialId})
  }
  return unbound
}
