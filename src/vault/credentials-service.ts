import {AivaultError} from '../errors'
import type {AuthSpec} from '../registry/types'
import type {ProviderCatalog} from './catalog'
import type {CredentialRecord} from './credential-record'
import {secretIdOfRef} from './credential-record'
import {ensureVault} from './init'
import {removeBindingsFor} from './bindings'
import type {SecretMeta} from './secret-record'
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

/** Registry providers take auth and hosts from the registry whatever the record says (SPEC §4). */
export function credentialView(record: CredentialRecord, catalog: ProviderCatalog): CredentialView {
  const provider = catalog.provider(record.provider)
  const auth = provider ? provider.auth : record.auth
  const hosts = provider && record.hosts.length === 0 ? provider.hosts : record.hosts
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

/**
 * Create a credential. Registry providers keep the registry's auth; `--host` may only narrow to
 * hosts matching the registry patterns. Custom providers need an auth strategy and exact hosts.
 * A secret pinned to one provider never backs another provider's credential.
 */
export async function createCredential(
  vault: Vault,
  catalog: ProviderCatalog,
  input: CredentialInput,
  matchHost: (pattern: string, host: string) => boolean,
): Promise<CredentialRecord> {
  await ensureVault(vault)
  return vault.withLock(async () => {
    if (vault.credentials.find(input.id)) {
      throw new AivaultError('conflict', `credential ${input.id} already exists`, {hint: `delete it first with "aivault credential delete ${input.id}"`})
    }
    const provider = catalog.provider(input.provider)
    const secrets = vault.secrets.list().records
    const refs = resolveRefs(input, provider?.vaultSecrets, secrets)
    let auth: AuthSpec | null = null
    let hosts: string[] = []
    if (provider) {
      if (input.auth) {
        throw new AivaultError('policy_violation', `provider ${provider.id} is a registry provider; its auth strategy comes from the registry`, {hint: 'drop --auth and the auth flags'})
      }
      for (const host of input.hosts) {
        if (!provider.hosts.some((pattern) => matchHost(pattern, host))) {
          throw new AivaultError('policy_violation', `host ${host} is not one of provider ${provider.id}'s hosts (${provider.hosts.join(', ')})`, {
            hint: '--host may only narrow a registry provider to hosts its registry entry allows',
          })
        }
      }
      hosts = [...new Set(input.hosts)].sort()
    } else {
      if (!input.auth) throw new AivaultError('invalid_request', `provider ${input.provider} is not in the registry, so --auth is required`, {hint: 'add --auth header|query|basic|...'})
      if (input.hosts.length === 0) throw new AivaultError('invalid_request', `a custom credential needs at least one --host`, {hint: 'add --host api.example.com'})
      if (input.hosts.some((h) => /:\d+$/.test(h)) && !vault.config().testing) {
        throw new AivaultError('invalid_request', 'AIVAULT_DEV_ALLOW_NON_DEFAULT_PORTS is only honoured in a vault created with "aivault init --testing"')
      }
      auth = input.auth
      hosts = [...new Set(input.hosts)].sort()
    }
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
