import type {ProviderCatalog} from '../vault/catalog'
import type {CredentialView} from '../vault/credentials-service'
import {credentialView} from '../vault/credentials-service'
import type {SecretMeta} from '../vault/store/secret-record'
import type {SecretChange} from '../vault/secrets-service'

/** `secrets create|rotate|update` JSON (SPEC §15). */
export interface SecretChangeJson {
  secret: SecretMeta
  credential: CredentialView | null
  waitingFor: string[]
  capabilitiesEnabled: number
  /** Set while a per-tenant credential waits for its host: the command that completes it. */
  completeWith?: string
}

export function secretChangeJson(change: SecretChange, catalog: ProviderCatalog): SecretChangeJson {
  return {
    secret: change.secret,
    credential: change.credential ? credentialView(change.credential, catalog) : null,
    waitingFor: change.waitingFor,
    capabilitiesEnabled: change.capabilitiesEnabled,
    ...(change.completeWith ? {completeWith: change.completeWith} : {}),
  }
}
