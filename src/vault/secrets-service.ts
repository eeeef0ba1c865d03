import {isUtf8} from 'node:buffer'

import {AivaultError} from '../errors'
import type {ProviderCatalog} from './catalog'
import type {CredentialRecord} from './store/credential-record'
import {secretIdOfRef} from './store/credential-record'
import {ensureVault} from './init'
import type {ProvisionOutcome} from './provisioning'
import {provisionProvider} from './provisioning'
import type {ScopeFilter, SecretScope} from './scope'
import {matchesFilter, sameScope, scopeKey, scopeLabel} from './scope'
import type {AttachedGroup, SecretMeta, SecretRecord} from './store/secret-record'
import {secretMeta, sortGroups} from './store/secret-record'
import {removeBindingsFor} from './bindings'
import {selfAlias} from './names'
import {tamperedRecord} from './store/record-store'
import type {Vault} from './vault'

/** Addressing a secret: by id, or by name (or alias) within a scope where that is unambiguous. */
export interface SecretRef {
  id?: string
  name?: string
  scope?: SecretScope
}

export interface SecretChange {
  secret: SecretMeta
  credential: CredentialRecord | null
  waitingFor: string[]
  /** The command that completes a per-tenant credential waiting for its host (SPEC §4). */
  completeWith: string | null
  capabilitiesEnabled: number
  /** Whether this change wrote the credential (for the "auto-provisioned" line). */
  credentialCreated: boolean
}

export interface SecretListing {
  secrets: SecretMeta[]
  /** scopeLabel of each secret's scope, in the same order (render/ cannot call it). */
  scopeLabels: string[]
  problems: {file: string; message: string}[]
}

const byName = (a: SecretMeta, b: SecretMeta) =>
  a.name < b.name ? -1 : a.name > b.name ? 1 : scopeKey(a.scope) < scopeKey(b.scope) ? -1 : scopeKey(a.scope) > scopeKey(b.scope) ? 1 : 0

/** Metadata only, sorted by name; never decrypts and never writes a record. */
export function listSecrets(vault: Vault, filter: {scope?: ScopeFilter} = {}): SecretListing {
  if (!vault.exists()) return {secrets: [], scopeLabels: [], problems: []}
  const {records, problems} = vault.secrets.list()
  const secrets = (filter.scope ? records.filter((s) => matchesFilter(s.scope, filter.scope as ScopeFilter)) : records).sort(byName)
  return {secrets, scopeLabels: secrets.map((s) => scopeLabel(s.scope)), problems}
}

export function findSecret(secrets: SecretMeta[], ref: SecretRef): SecretMeta {
  if (ref.id) {
    const found = secrets.find((s) => s.id === ref.id)
    if (!found) throw new AivaultError('secret_not_found', `no secret with id ${ref.id}`, {hint: 'see "aivault secrets list"'})
    return found
  }
  const name = ref.name as string
  const matches = secrets.filter((s) => (s.name === name || s.aliases.includes(name)) && (!ref.scope || sameScope(s.scope, ref.scope)))
  if (matches.length === 0) {
    throw new AivaultError('secret_not_found', `no secret named ${name}${ref.scope ? ` in scope ${scopeLabel(ref.scope)}` : ''}`, {hint: 'see "aivault secrets list"'})
  }
  if (matches.length > 1) {
    const listed = matches.map((s) => `${s.id} in ${scopeLabel(s.scope)}`).join(', ')
    // One scope holding the name twice is what a merge of two clones can leave (doctor names the fix).
    if (new Set(matches.map((s) => scopeKey(s.scope))).size === 1) {
      throw new AivaultError('conflict', `${matches.length} secrets answer to ${name} in one scope: ${listed}`, {
        hint: 'address one with --id; "aivault doctor" prints the command that gives each its own name',
      })
    }
    throw new AivaultError('invalid_request', `${matches.length} secrets are named ${name}: ${listed}`, {hint: 'add --scope with --workspace-id/--group-id, or use --id'})
  }
  return matches[0]
}

/**
 * The secret a command changes, from a fresh listing. A record that could not be read (a link,
 * an oversized or malformed file) is named with its problem rather than reported missing.
 */
function findListed({records, problems}: ReturnType<Vault['secrets']['list']>, ref: SecretRef): SecretMeta {
  try {
    return findSecret(records, ref)
  } catch (error) {
    const problem = ref.id && error instanceof AivaultError && error.code === 'secret_not_found' ? problems.find((p) => p.file === `secrets/${ref.id}.yaml`) : undefined
    if (problem) throw tamperedRecord(problem.file, problem.message)
    throw error
  }
}

/** Commands that change an existing secret never create a vault to report it missing. */
function requireSecretsVault(vault: Vault, ref: SecretRef): void {
  if (!vault.exists()) {
    throw new AivaultError('secret_not_found', `no secret ${ref.id ?? ref.name}: there is no vault at ${vault.paths.root}`, {
      hint: 'create a secret first, or set AIVAULT_DIR to your vault',
    })
  }
}

/** Names and aliases are unique within one scope; the hint names the secret that holds the name. */
function assertNamesFree(secrets: SecretMeta[], scope: SecretScope, names: string[], exceptId?: string): void {
  for (const other of secrets) {
    if (other.id === exceptId || !sameScope(other.scope, scope)) continue
    const taken = names.find((n) => other.name === n || other.aliases.includes(n))
    if (!taken) continue
    const held = other.name === taken ? 'the name' : 'an alias'
    throw new AivaultError('conflict', `${taken} is already ${held} of secret ${other.name} (${other.id}) in scope ${scopeLabel(scope)}`, {
      hint: takenHint(other, taken, taken === names[0] ? 'name' : 'alias', exceptId === undefined),
    })
  }
}

function takenHint(other: SecretMeta, taken: string, wanted: 'name' | 'alias', creating: boolean): string {
  if (other.name !== taken) return `choose another ${wanted}, or take the alias off ${other.name} with "aivault secrets update --id ${other.id} --clear-aliases"`
  if (creating && wanted === 'name') return `to change its value, rotate it with "aivault secrets rotate --id ${other.id}"; or choose another name`
  return `choose another ${wanted}, or rename ${other.name} with "aivault secrets update --id ${other.id} --name <new-name>"`
}

/**
 * A value the broker can inject: not empty, and UTF-8 text. Values go into HTTP headers,
 * queries and JSON, which carry text; bytes that are not UTF-8 would be changed on the way
 * (to U+FFFD), so they are refused here rather than stored.
 */
const EMPTY_VALUE = {reason: 'empty value', message: 'the secret value is empty', hint: 'pass --value, --value-file or --value-stdin with a non-empty value'}
const NOT_TEXT = {
  reason: 'value is not UTF-8 text',
  message: 'the secret value is not UTF-8 text',
  hint: 'values are injected into HTTP headers and queries, which carry text: store a binary key base64- or hex-encoded',
}

function valueProblem(value: Uint8Array): typeof EMPTY_VALUE | undefined {
  if (value.length === 0) return EMPTY_VALUE
  return isUtf8(value) ? undefined : NOT_TEXT
}

function checkValue(value: Uint8Array): void {
  const problem = valueProblem(value)
  if (problem) throw new AivaultError('invalid_request', problem.message, {hint: problem.hint})
}

/** An alias is another name for the secret, never its own name. */
function checkAliases(name: string, aliases: string[]): void {
  const repeated = selfAlias(name, aliases)
  if (repeated) throw new AivaultError('invalid_request', `the alias ${repeated} repeats the secret's name`, {hint: 'an alias is another name for the secret: leave this one out'})
}

/** Create one secret; runs under the vault lock, with the listing the caller already holds. */
async function createLocked(
  vault: Vault,
  catalog: ProviderCatalog,
  existing: SecretMeta[],
  input: {name: string; value: Uint8Array; scope: SecretScope; aliases: string[]},
  durable = true,
): Promise<SecretRecord> {
  checkValue(input.value)
  checkAliases(input.name, input.aliases)
  assertNamesFree(existing, input.scope, [input.name, ...input.aliases])
  const claim = catalog.claimFor(input.name)
  const id = (require('node:crypto') as typeof import('node:crypto')).randomUUID()
  const now = new Date().toISOString()
  const pinnedProvider = claim?.provider ?? null
  const record: SecretRecord = {
    id,
    name: input.name,
    aliases: [...new Set(input.aliases)].sort(),
    scope: input.scope,
    pinnedProvider,
    attachedGroups: [],
    systemManaged: false,
    valueVersion: 1,
    createdAt: now,
    updatedAt: now,
    sealed: await vault.sealSecretValue(id, input.scope, pinnedProvider, input.value),
  }
  // Logged before the record lands: a process killed in between leaves no unaudited secret.
  await vault.audit.append('secret.create', {secretId: id, name: record.name, scope: record.scope})
  if (pinnedProvider) await vault.audit.append('secret.pin', {secretId: id, name: record.name, provider: pinnedProvider})
  vault.secrets.write(record, {durable})
  return record
}

function change(record: SecretMeta, outcome?: ProvisionOutcome): SecretChange {
  return {
    secret: record,
    credential: outcome?.credential ?? null,
    waitingFor: outcome?.waitingFor ?? [],
    completeWith: outcome?.completeWith ?? null,
    capabilitiesEnabled: outcome?.capabilitiesEnabled ?? 0,
    credentialCreated: outcome?.created ?? false,
  }
}

async function provisionFor(vault: Vault, catalog: ProviderCatalog, record: SecretMeta): Promise<ProvisionOutcome | undefined> {
  if (!record.pinnedProvider) return undefined
  const {records} = vault.secrets.list()
  return provisionProvider(vault, catalog, record.pinnedProvider, record.scope, records)
}

export async function createSecret(
  vault: Vault,
  catalog: ProviderCatalog,
  input: {name: string; value: Uint8Array; scope: SecretScope; aliases: string[]},
): Promise<SecretChange> {
  await ensureVault(vault)
  return vault.withLock(async () => {
    const record = await createLocked(vault, catalog, vault.secrets.list().records, input)
    return change(secretMeta(record), await provisionFor(vault, catalog, record))
  })
}

async function rotateLocked(vault: Vault, record: SecretRecord, value: Uint8Array, durable = true): Promise<SecretRecord> {
  checkValue(value)
  const rotated: SecretRecord = {
    ...record,
    valueVersion: record.valueVersion + 1,
    updatedAt: new Date().toISOString(),
    sealed: await vault.sealSecretValue(record.id, record.scope, record.pinnedProvider, value, record.tenantHost),
  }
  await vault.audit.append('secret.rotate', {secretId: record.id, name: record.name, scope: record.scope, valueVersion: rotated.valueVersion})
  vault.secrets.write(rotated, {durable})
  return rotated
}

/** A fresh DEK and valueVersion + 1; the metadata stays as it is. */
export async function rotateSecret(vault: Vault, catalog: ProviderCatalog, ref: SecretRef, value: Uint8Array): Promise<SecretChange> {
  requireSecretsVault(vault, ref)
  return vault.withLock(async () => {
    const meta = findListed(vault.secrets.list(), ref)
    const rotated = await rotateLocked(vault, vault.secrets.read(meta.id), value)
    return change(secretMeta(rotated), await provisionFor(vault, catalog, rotated))
  })
}

/** Rename or re-alias a secret (never its value). An unchanged request rewrites nothing. */
export async function updateSecret(
  vault: Vault,
  catalog: ProviderCatalog,
  input: {id: string; name?: string; aliases?: string[]; clearAliases?: boolean},
): Promise<SecretChange> {
  requireSecretsVault(vault, {id: input.id})
  return vault.withLock(async () => {
    const listing = vault.secrets.list()
    const all = listing.records
    const record = vault.secrets.read(findListed(listing, {id: input.id}).id)
    const name = input.name ?? record.name
    if (name !== record.name) {
      if (record.pinnedProvider) {
        throw new AivaultError('policy_violation', `${record.name} is pinned to provider ${record.pinnedProvider}; its name cannot change`, {
          hint: 'create a new secret instead and delete this one',
        })
      }
      const claim = catalog.claimFor(name)
      if (claim) {
        throw new AivaultError('policy_violation', `${name} is claimed by provider ${claim.provider}; a secret can only get that name when it is created`, {
          hint: `create it with "aivault secrets create --name ${name}"`,
        })
      }
    }
    let aliases = input.clearAliases ? [] : [...record.aliases]
    if (input.aliases) aliases = [...aliases, ...input.aliases]
    aliases = [...new Set(aliases)].sort()
    checkAliases(name, aliases)
    assertNamesFree(all, record.scope, [name, ...aliases], record.id)
    if (name === record.name && JSON.stringify(aliases) === JSON.stringify(record.aliases)) return change(secretMeta(record))
    const updated: SecretRecord = {...record, name, aliases, updatedAt: new Date().toISOString()}
    vault.secrets.write(updated)
    await vault.audit.append('secret.update', {secretId: record.id, name, scope: record.scope})
    return change(secretMeta(updated))
  })
}

export interface DeleteResult {
  deleted: SecretMeta
  removed: {credentials: string[]; bindings: string[]}
}

/**
 * Delete a secret and everything that depended on it: credentials that reference it and
 * bindings of those credentials. Dependents go first, so an interrupted delete never leaves a
 * credential pointing at a missing secret; running it again finishes the job.
 */
export async function deleteSecret(vault: Vault, ref: SecretRef): Promise<DeleteResult> {
  requireSecretsVault(vault, ref)
  return vault.withLock(async () => {
    const meta = findListed(vault.secrets.list(), ref)
    const credentials = vault.credentials
      .list()
      .records.filter((c) => Object.values(c.secretRefs).some((r) => secretIdOfRef(r) === meta.id))
      .map((c) => c.id)
      .sort()
    const bindings = await removeBindingsFor(vault, credentials, [meta.id])
    for (const id of credentials) {
      vault.credentials.remove(id)
      await vault.audit.append('credential.delete', {credentialId: id, reason: `secret ${meta.id} deleted`})
    }
    vault.secrets.remove(meta.id)
    await vault.audit.append('secret.delete', {secretId: meta.id, name: meta.name, scope: meta.scope})
    return {deleted: meta, removed: {credentials, bindings}}
  })
}

/** Attach or detach a workspace group; idempotent (an unchanged record keeps its bytes). */
/** Attach or detach a group; `changed` is false when it already was (or was not) attached. */
export async function setGroupAttachment(vault: Vault, ref: SecretRef, group: AttachedGroup, attach: boolean): Promise<{secret: SecretMeta; changed: boolean}> {
  requireSecretsVault(vault, ref)
  return vault.withLock(async () => {
    const record = vault.secrets.read(findListed(vault.secrets.list(), ref).id)
    const has = record.attachedGroups.some((g) => g.workspaceId === group.workspaceId && g.groupId === group.groupId)
    if (has === attach) return {secret: secretMeta(record), changed: false}
    const attachedGroups = attach
      ? sortGroups([...record.attachedGroups, group])
      : record.attachedGroups.filter((g) => !(g.workspaceId === group.workspaceId && g.groupId === group.groupId))
    const updated: SecretRecord = {...record, attachedGroups, updatedAt: new Date().toISOString()}
    vault.secrets.write(updated)
    await vault.audit.append(attach ? 'secret.attach_group' : 'secret.detach_group', {secretId: record.id, name: record.name, ...group})
    return {secret: secretMeta(updated), changed: true}
  })
}

export interface ImportResult {
  created: string[]
  rotated: string[]
  skipped: {name: string; reason: string}[]
  provisioned: ProvisionOutcome[]
  /** The provider each created or rotated name is pinned to, when it is. */
  pinned: Record<string, string>
}

/**
 * Import many entries in one lock and one key load: each entry is created, or rotated when
 * its name already exists in the scope. Each entry's event is logged as it lands (SPEC §12);
 * the disk flushes are paid once. Provisioning runs once per provider at the end.
 */
export async function importSecrets(
  vault: Vault,
  catalog: ProviderCatalog,
  entries: {name: string; value: Uint8Array}[],
  scope: SecretScope,
  onProgress?: (done: number, total: number) => void,
): Promise<ImportResult> {
  await ensureVault(vault)
  return vault.withLock(() => vault.audit.batch(async () => {
    const result: ImportResult = {created: [], rotated: [], skipped: [], provisioned: [], pinned: {}}
    const secrets = vault.secrets.list().records
    // Names and aliases taken in this scope, so each entry is checked in O(1).
    const taken = new Map<string, SecretMeta>()
    for (const s of secrets) if (sameScope(s.scope, scope)) for (const n of [s.name, ...s.aliases]) taken.set(n, s)
    const seen = new Set<string>()
    const providers = new Set<string>()
    for (const [index, entry] of entries.entries()) {
      onProgress?.(index, entries.length)
      if (seen.has(entry.name)) {
        result.skipped.push({name: entry.name, reason: 'duplicate entry in this import'})
        continue
      }
      seen.add(entry.name)
      const problem = valueProblem(entry.value)
      if (problem) {
        result.skipped.push({name: entry.name, reason: problem.reason})
        continue
      }
      const holder = taken.get(entry.name)
      if (holder && holder.name !== entry.name) {
        result.skipped.push({name: entry.name, reason: `${entry.name} is an alias of secret ${holder.name} in this scope`})
        continue
      }
      if (holder) {
        const rotated = await rotateLocked(vault, vault.secrets.read(holder.id), entry.value, false)
        result.rotated.push(entry.name)
        if (rotated.pinnedProvider) providers.add((result.pinned[entry.name] = rotated.pinnedProvider))
        continue
      }
      const record = await createLocked(vault, catalog, [], {name: entry.name, value: entry.value, scope, aliases: []}, false)
      const meta = secretMeta(record)
      secrets.push(meta)
      taken.set(entry.name, meta)
      result.created.push(entry.name)
      if (record.pinnedProvider) providers.add((result.pinned[entry.name] = record.pinnedProvider))
    }
    onProgress?.(entries.length, entries.length)
    vault.secrets.syncFolder() // one folder fsync for the whole import
    for (const provider of [...providers].sort()) {
      result.provisioned.push(await provisionProvider(vault, catalog, provider, scope, secrets))
    }
    return result
  }))
}
