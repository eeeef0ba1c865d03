import {AivaultError} from '../errors'
import type {Registry} from '../registry/registry'
import type {CapabilityDef} from '../registry/types'
import type {Vault} from '../vault/vault'

/** A capability as the broker uses it: registry, plugin or custom (vault record). */
export interface ResolvedCapability extends CapabilityDef {
  custom: boolean
  /** A custom capability may be tied to one credential. */
  credential: string | null
}

export function findCapability(vault: Vault, registry: Registry, id: string): ResolvedCapability {
  const builtin = registry.capability(id)
  if (builtin) return {...builtin, custom: false, credential: null}
  if (vault.exists() && /^[A-Za-z0-9][A-Za-z0-9_.:/-]*$/.test(id)) {
    const custom = vault.capabilities.find(id)
    if (custom) return {id: custom.id, provider: custom.provider, allow: custom.allow, custom: true, credential: custom.credential}
  }
  throw new AivaultError('capability_not_found', `no capability ${JSON.stringify(id)}`, {hint: 'see "aivault capability list"'})
}
