/**
 * What `secrets list` and `capability list` do, apart from parsing flags: the command classes
 * and the fast path (fast-path.ts) both call these, so both print the same thing.
 */
import type {CapabilityListing} from '../../broker/credential/capability-catalog'
import {listCapabilities} from '../../broker/credential/capability-catalog'
import {loadRegistry} from '../../plugins/runtime'
import {renderCapabilityList} from '../../render/capabilities'
import {renderList} from '../../render/secrets'
import type {ScopeFilter} from '../../vault/scope'
import {listSecrets} from '../../vault/secrets-service'
import type {SecretMeta} from '../../vault/store/secret-record'
import {Vault} from '../../vault/vault'

/** A command's answer: its JSON value, its text, and warnings for stderr. */
export interface ListingOutcome<T> {
  result: T
  text: string
  notes: string[]
}

export function secretsListOutcome(scope?: ScopeFilter): ListingOutcome<{secrets: SecretMeta[]}> {
  const listing = listSecrets(Vault.fromEnv(), {scope})
  return {result: {secrets: listing.secrets}, text: renderList(listing), notes: listing.problems.map((p) => `skipped ${p.file}: ${p.message}`)}
}

export function capabilityListOutcome(provider?: string): ListingOutcome<CapabilityListing> {
  const listing = listCapabilities(Vault.fromEnv(), loadRegistry(), {provider})
  return {result: listing, text: renderCapabilityList(listing), notes: []}
}
