/**
 * Writing the records the broker obeys: custom capabilities, policies and bindings (SPEC §6).
 * Each write holds the vault lock and is audited.
 */
import {AivaultError} from '../errors'
import type {Registry} from '../registry/registry'
import type {Binding, CapabilityPolicy, CustomCapability} from '../vault/store/broker-records'
import {bindingId} from '../vault/store/broker-records'
import {SECRET_REF} from '../vault/store/credential-record'
import {ensureVault} from '../vault/init'
import type {Vault} from '../vault/vault'
import {customCapabilityTarget, findCapability} from './credential/capabilities'

export interface CustomCapabilityInput {
  id: string
  provider?: string
  credential?: string
  methods: string[]
  pathPrefixes: string[]
  hosts: string[]
}

export async function createCustomCapability(vault: Vault, registry: Registry, input: CustomCapabilityInput): Promise<CustomCapability> {
  if (registry.capability(input.id)) throw new AivaultError('conflict', `${input.id} is a registry capability`, {hint: 'choose another id; registry capabilities cannot be redefined'})
  await ensureVault(vault)
  return vault.withLock(async () => {
    if (vault.capabilities.find(input.id)) throw new AivaultError('conflict', `capability ${input.id} already exists`, {hint: `delete it first with "aivault capability delete ${input.id}"`})
    // --credential lends its provider and hosts only: the capability is not tied to it (SPEC §6).
    const {provider, hosts} = customCapabilityTarget(vault, registry, input)
    const capability: CustomCapability = {
      id: input.id,
      provider,
      credential: null,
      allow: {hosts, methods: [...new Set(input.methods)].sort(), pathPrefixes: [...new Set(input.pathPrefixes)].sort()},
      createdAt: new Date().toISOString(),
    }
    vault.capabilities.write(capability)
    await vault.audit.append('capability.create', {capabilityId: capability.id, provider: capability.provider})
    return capability
  })
}

export async function deleteCustomCapability(vault: Vault, id: string): Promise<{deleted: string; removed: {bindings: string[]; policy: boolean}}> {
  const missing = () => new AivaultError('capability_not_found', `no custom capability ${id}`, {hint: 'registry capabilities cannot be deleted'})
  if (!vault.exists()) throw missing()
  return vault.withLock(async () => {
    if (!vault.capabilities.find(id)) throw missing()
    const bindings = vault.bindings.list().records.filter((b) => b.capability === id).map((b) => b.id)
    for (const b of bindings) {
      vault.bindings.remove(b)
      await vault.audit.append('binding.remove', {bindingId: b, reason: 'capability deleted'})
    }
    const policy = vault.policies.remove(id)
    vault.capabilities.remove(id)
    await vault.audit.append('capability.delete', {capabilityId: id})
    return {deleted: id, removed: {bindings, policy}}
  })
}

export type PolicyInput = Partial<Omit<CapabilityPolicy, 'id'>>

/** Set (merge) a capability's policy; works for registry capabilities too. Unchanged = no write. */
export async function setPolicy(vault: Vault, registry: Registry, capability: string, input: PolicyInput): Promise<CapabilityPolicy> {
  await ensureVault(vault)
  findCapability(vault, registry, capability)
  return vault.withLock(async () => {
    const current = vault.policies.find(capability) ?? {id: capability, rateLimitPerMinute: null, maxRequestBodyBytes: null, maxResponseBodyBytes: null, responseBlock: []}
    const next: CapabilityPolicy = {
      id: capability,
      rateLimitPerMinute: input.rateLimitPerMinute !== undefined ? input.rateLimitPerMinute : current.rateLimitPerMinute,
      maxRequestBodyBytes: input.maxRequestBodyBytes !== undefined ? input.maxRequestBodyBytes : current.maxRequestBodyBytes,
      maxResponseBodyBytes: input.maxResponseBodyBytes !== undefined ? input.maxResponseBodyBytes : current.maxResponseBodyBytes,
      responseBlock: [...new Set(input.responseBlock ?? current.responseBlock)].sort(),
    }
    if (JSON.stringify(next) !== JSON.stringify({...current, responseBlock: [...current.responseBlock].sort()}) || !vault.policies.find(capability)) {
      vault.policies.write(next)
      await vault.audit.append('policy.set', {capabilityId: capability, ...next, id: undefined})
    }
    return next
  })
}

export interface BindInput {
  capability: string
  credential?: string
  secretRef?: string
  workspaceId?: string
  groupId?: string
  consumer?: string
}

/** Bind a capability to a credential or a secret, for a scope and optionally one consumer. */
export async function bindCapability(vault: Vault, registry: Registry, input: BindInput): Promise<Binding> {
  await ensureVault(vault)
  const capability = findCapability(vault, registry, input.capability)
  return vault.withLock(async () => {
    if (input.credential) {
      const credential = vault.credentials.find(input.credential)
      if (!credential) throw new AivaultError('credential_not_found', `no credential ${input.credential}`)
      if (credential.provider !== capability.provider) throw new AivaultError('policy_violation', `credential ${input.credential} is for ${credential.provider}, not ${capability.provider}`)
    }
    if (input.secretRef) {
      const secretId = SECRET_REF.exec(input.secretRef)?.[1] as string
      const secret = vault.secrets.list().records.find((s) => s.id === secretId)
      if (!secret) throw new AivaultError('secret_not_found', `no secret with id ${secretId}`)
      if (secret.pinnedProvider && secret.pinnedProvider !== capability.provider) {
        throw new AivaultError('policy_violation', `secret ${secret.name} is pinned to provider ${secret.pinnedProvider}`)
      }
    }
    const binding: Binding = {
      id: bindingId(input.capability, input),
      capability: input.capability,
      credential: input.credential ?? null,
      secretRef: input.secretRef ?? null,
      workspaceId: input.workspaceId ?? null,
      groupId: input.groupId ?? null,
      consumer: input.consumer ?? null,
    }
    const existing = vault.bindings.find(binding.id)
    if (!existing || JSON.stringify(existing) !== JSON.stringify(binding)) {
      vault.bindings.write(binding)
      await vault.audit.append('binding.set', {bindingId: binding.id, capabilityId: binding.capability, credentialId: binding.credential, secretRef: binding.secretRef})
    }
    return binding
  })
}

export async function unbindCapability(vault: Vault, input: Omit<BindInput, 'credential' | 'secretRef'>): Promise<{removed: string}> {
  const id = bindingId(input.capability, input)
  const missing = () => new AivaultError('not_found', `no binding ${id}`, {hint: 'see "aivault capability bindings"'})
  if (!vault.exists()) throw missing()
  return vault.withLock(async () => {
    if (!vault.bindings.remove(id)) throw missing()
    await vault.audit.append('binding.remove', {bindingId: id})
    return {removed: id}
  })
}

export function listBindings(vault: Vault, capability?: string): Binding[] {
  if (!vault.exists()) return []
  return vault.bindings
    .list()
    .records.filter((b) => !capability || b.capability === capability)
    .sort((a, b) => (a.id < b.id ? -1 : 1))
}
