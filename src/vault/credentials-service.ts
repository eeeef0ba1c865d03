import {AivaultError} from '../errors'
import type {AuthSpec} from '../registry/types'
import type {CatalogProvider, ProviderCatalog} from './catalog'
import {completeTenantCommand} from './catalog'
import type {CredentialRecord} from './store/credential-record'
import {secretIdOfRef} from './store/credential-record'
import {ensureVault} from './init'
import {removeBindingsFor} from './bindings'
import {scopeLabel, scopeOfIds} from './scope'
import type {SecretMeta} from './store/secret-record'
import {bindSecretsToTenant} from './tenant-binding'
import type {Vault} from './vault'

/** The JSON shape of a credential (SPEC §15): auth flattened to `{type, ...camelCase fields}`. */
export interface CredentialView {
  id: string
  provider: string
  auth: Record<string, unknown> & {type: string}
  hosts: string[]
  secretRefs: Record<string, string>
  workspaceId: string | null
  groupId: string | null
  autoProvisioned: boolean
}

const camel = (key: string) => key.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase())

export function flattenAuth(auth: AuthSpec): Record<string, unknown> & {type: string} {
  const [type, config] = Object.entries(auth)[0] as [string, unknown]
  if (Array.isArray(config)) return {type, entries: config.map((e) => Object.fromEntries(Object.entries(e).map(([k, v]) => [camel(k), v])))}
  return {type, ...Object.fromEntries(Object.entries((config ?? {}) as object).map(([k, v]) => [camel(k), v]))}
}

/**
 * Registry providers take auth from the registry, and hosts from the registry or the tenant
 * hosts their record narrows to; hosts a record names outside the registry are ignored (SPEC §4, §5).
 */
export function credentialView(record: CredentialRecord, catalog: ProviderCatalog): CredentialView {
  const provider = catalog.provider(record.provider)
  const auth = provider ? provider.auth : record.auth
  const hosts = provider ? provider.narrowHosts(record.hosts).hosts : record.hosts
  return {
    id: record.id,
    provider: record.provider,
    auth: auth ? flattenAuth(auth) : {type: 'unknown'},
    hosts: [...hosts],
    secretRefs: record.secretRefs,
    workspaceId: record.workspaceId,
    groupId: record.groupId,
    autoProvisioned: record.autoProvisioned,
  }
}

/**
 * For a credential of a per-tenant provider that names no tenant host yet (it serves nothing,
 * SPEC §4): the command that completes it. Undefined for any other credential.
 */
export function waitingCommand(record: Pick<CredentialRecord, 'id' | 'provider' | 'hosts'>, catalog: ProviderCatalog): string | undefined {
  const provider = catalog.provider(record.provider)
  if (!provider?.perTenant || provider.narrowHosts(record.hosts).tenants.length > 0) return undefined
  return completeTenantCommand(record.id, provider)
}

export interface CredentialListing {
  credentials: CredentialView[]
  /** scopeLabel of each credential's scope, in the same order (render/ cannot call it). */
  scopeLabels: string[]
  problems: {file: string; message: string}[]
}

/** Every readable credential as shown to people, sorted by id, plus the files that could not be read. */
export function credentialListing(vault: Vault, catalog: ProviderCatalog): CredentialListing {
  const {credentials, problems} = listCredentials(vault)
  const views = credentials.map((c) => credentialView(c, catalog))
  return {credentials: views, scopeLabels: views.map((c) => scopeLabel(scopeOfIds(c.workspaceId, c.groupId))), problems}
}

export function listCredentials(vault: Vault): {credentials: CredentialRecord[]; problems: {file: string; message: string}[]} {
  if (!vault.exists()) return {credentials: [], problems: []}
  const {records, problems} = vault.credentials.list()
  return {credentials: records.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)), problems}
}

export interface CredentialInput {
  id: string
  provider: string
  /** Placeholder -> secret id; a single unnamed ref uses the provider's only placeholder or `secret`. */
  secretRefs: {placeholder?: string; secretId: string}[]
  auth?: AuthSpec
  hosts: string[]
  workspaceId?: string
  groupId?: string
}

const registryAuthRefused = (provider: string) =>
  new AivaultError('policy_violation', `provider ${provider} is a registry provider; its auth strategy comes from the registry`, {hint: 'drop --auth and the auth flags'})

/**
 * The hosts a credential may name: for a registry provider only hosts its patterns allow, and at
 * most one tenant host; for a custom provider at least one exact host (ports only in a testing
 * vault). Returns them sorted, with the tenant host they name, if any.
 */
function checkHosts(vault: Vault, provider: CatalogProvider | undefined, hosts: string[]): {hosts: string[]; tenant: string | null} {
  const sorted = [...new Set(hosts)].sort()
  if (!provider) {
    if (sorted.length === 0) throw new AivaultError('invalid_request', `a custom credential needs at least one --host`, {hint: 'add --host api.example.com'})
    if (sorted.some((h) => /:\d+$/.test(h)) && !vault.config().testing) {
      throw new AivaultError('invalid_request', 'AIVAULT_DEV_ALLOW_NON_DEFAULT_PORTS is only honoured in a vault created with "aivault init --testing"')
    }
    return {hosts: sorted, tenant: null}
  }
  const narrowed = provider.narrowHosts(sorted)
  if (narrowed.ignored.length > 0) {
    throw new AivaultError('policy_violation', `host ${narrowed.ignored[0]} is not one of provider ${provider.id}'s hosts (${provider.hosts.join(', ')})`, {
      hint: '--host may only narrow a registry provider to hosts its registry entry allows',
    })
  }
  if (narrowed.tenants.length > 1) {
    throw new AivaultError('policy_violation', `a ${provider.id} credential names one tenant host, not ${narrowed.tenants.length} (${narrowed.tenants.join(', ')})`, {
      hint: 'create one credential per tenant, each with its own secret',
    })
  }
  return {hosts: sorted, tenant: narrowed.tenants[0] ?? null}
}

/** An OAuth2 token endpoint must stay on one of the credential's hosts (SPEC §8). */
function checkTokenEndpoint(auth: AuthSpec | null, hosts: string[]): void {
  if (!auth || !('o_auth2' in auth)) return
  const host = new URL(auth.o_auth2.token_endpoint).host.toLowerCase()
  if (!hosts.includes(host)) {
    throw new AivaultError('invalid_request', `the token endpoint host ${host} must be one of the credential's hosts (${hosts.join(', ')})`, {hint: 'keep that host in --host'})
  }
}

/**
 * Create a credential. Registry providers keep the registry's auth; `--host` may only narrow to
 * hosts matching the registry patterns, and a tenant host binds the secrets to that tenant
 * (tenant-binding.ts). Custom providers need an auth strategy and exact hosts. A secret pinned
 * to one provider never backs another provider's credential.
 */
export async function createCredential(vault: Vault, catalog: ProviderCatalog, input: CredentialInput): Promise<CredentialRecord> {
  await ensureVault(vault)
  return vault.withLock(async () => {
    if (vault.credentials.find(input.id)) {
      throw new AivaultError('conflict', `credential ${input.id} already exists`, {
        hint: input.hosts.length > 0 ? `change its hosts with "aivault credential update ${input.id} --host ..."` : `delete it first with "aivault credential delete ${input.id}"`,
      })
    }
    const provider = catalog.provider(input.provider)
    if (provider && input.auth) throw registryAuthRefused(provider.id)
    if (!provider && !input.auth) throw new AivaultError('invalid_request', `provider ${input.provider} is not in the registry, so --auth is required`, {hint: 'add --auth header|query|basic|...'})
    const refs = resolveRefs(input, provider?.vaultSecrets, vault.secrets.list().records)
    const {hosts, tenant} = checkHosts(vault, provider, input.hosts)
    const auth = provider ? null : (input.auth as AuthSpec)
    checkTokenEndpoint(auth, hosts)
    await bindSecretsToTenant(vault, catalog, input.id, refs, tenant)
    const record: CredentialRecord = {
      id: input.id,
      provider: input.provider,
      auth,
      hosts,
      secretRefs: refs,
      workspaceId: input.workspaceId ?? null,
      groupId: input.groupId ?? null,
      autoProvisioned: false,
      createdAt: new Date().toISOString(),
    }
    vault.credentials.write(record)
    await vault.audit.append('credential.create', {credentialId: record.id, provider: record.provider, hosts})
    return record
  })
}

export interface CredentialUpdate {
  /** Replaces the hosts when given. */
  hosts?: string[]
  /** Replaces the auth strategy (custom providers only). */
  auth?: AuthSpec
}

/**
 * `credential update <id> [--host H]... [auth flags]` (SPEC §5): completes a per-tenant
 * credential with its tenant host (binding its secrets to that tenant), or changes a custom
 * credential's hosts or auth. The same rules as create; an unchanged credential is not rewritten.
 */
export async function updateCredential(vault: Vault, catalog: ProviderCatalog, id: string, update: CredentialUpdate): Promise<{credential: CredentialRecord; changed: boolean}> {
  const missing = () => new AivaultError('credential_not_found', `no credential ${id}`, {hint: 'see "aivault credential list"'})
  if (!vault.exists()) throw missing()
  return vault.withLock(async () => {
    const current = vault.credentials.find(id)
    if (!current) throw missing()
    const provider = catalog.provider(current.provider)
    if (provider && update.auth) throw registryAuthRefused(provider.id)
    const {hosts, tenant} = update.hosts ? checkHosts(vault, provider, update.hosts) : {hosts: current.hosts, tenant: null}
    const auth = provider ? null : (update.auth ?? current.auth)
    checkTokenEndpoint(auth, hosts)
    if (update.hosts) await bindSecretsToTenant(vault, catalog, id, current.secretRefs, tenant)
    const next: CredentialRecord = {...current, auth, hosts}
    const changed = JSON.stringify(next) !== JSON.stringify(current)
    if (changed) {
      vault.credentials.write(next)
      await vault.audit.append('credential.update', {credentialId: id, provider: next.provider, hosts, ...(update.auth ? {authType: Object.keys(update.auth)[0]} : {})})
    }
    return {credential: next, changed}
  })
}

function resolveRefs(input: CredentialInput, claimed: Record<string, string> | undefined, secrets: SecretMeta[]): Record<string, string> {
  const placeholders = claimed ? [...new Set(Object.values(claimed))] : undefined
  const refs: Record<string, string> = {}
  for (const ref of input.secretRefs) {
    const secret = secrets.find((s) => s.id === ref.secretId)
    if (!secret) throw new AivaultError('secret_not_found', `no secret with id ${ref.secretId}`, {hint: 'see "aivault secrets list"'})
    if (secret.pinnedProvider && secret.pinnedProvider !== input.provider) {
      throw new AivaultError('policy_violation', `secret ${secret.name} is pinned to provider ${secret.pinnedProvider} and cannot back a ${input.provider} credential`)
    }
    const placeholder = ref.placeholder ?? (placeholders && placeholders.length === 1 ? placeholders[0] : 'secret')
    if (placeholders && !placeholders.includes(placeholder)) {
      throw new AivaultError('invalid_request', `provider ${input.provider} has no placeholder ${placeholder} (it uses ${placeholders.join(', ')})`, {
        hint: 'give --secret-ref PLACEHOLDER=vault:secret:<id> once per placeholder',
      })
    }
    if (refs[placeholder]) throw new AivaultError('invalid_request', `placeholder ${placeholder} is given twice`)
    refs[placeholder] = `vault:secret:${secret.id}`
  }
  if (placeholders) {
    const missing = placeholders.filter((p) => !refs[p])
    if (missing.length > 0) {
      throw new AivaultError('invalid_request', `provider ${input.provider} needs a secret for ${missing.join(', ')}`, {
        hint: 'give --secret-ref PLACEHOLDER=vault:secret:<id> once per placeholder',
      })
    }
  }
  return Object.fromEntries(Object.entries(refs).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
}

export async function deleteCredential(vault: Vault, id: string): Promise<{deleted: string; removed: {bindings: string[]}}> {
  const missing = () => new AivaultError('credential_not_found', `no credential ${id}`, {hint: 'see "aivault credential list"'})
  if (!vault.exists()) throw missing()
  return vault.withLock(async () => {
    if (!vault.credentials.find(id)) throw missing()
    const bindings = await removeBindingsFor(vault, [id])
    vault.credentials.remove(id)
    await vault.audit.append('credential.delete', {credentialId: id})
    return {deleted: id, removed: {bindings}}
  })
}

/** Secret ids a credential depends on. */
export function referencedSecretIds(record: CredentialRecord): string[] {
  return Object.values(record.secretRefs).map((r) => secretIdOfRef(r)).filter((x): x is string => x !== undefined)
}
