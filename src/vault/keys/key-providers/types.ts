import type {VaultPaths} from '../../store/paths'
import type {KekLink} from '../kek-chain'
import type {Kek} from '../seal'

/** How a vault's KEK is kept. One small interface; one file per kind (SPEC §2). */
export type KeyProviderType = 'file' | 'env' | 'passphrase' | 'recipients'

export const KEY_PROVIDER_TYPES: readonly KeyProviderType[] = ['file', 'env', 'passphrase', 'recipients']

/** One member of a recipients vault: the KEK sealed (crypto_box_seal) to their X25519 public key. */
export interface RecipientEntry {
  name: string
  /** Standard base64 of the 32-byte public key. */
  publicKey: string
  /** Standard base64 of the sealed box holding the KEK. */
  sealedKek: string
}

/** Key provider settings as stored in vault.yaml (never a key). */
export type KeyProviderSettings =
  | {type: 'file'; keyFile?: string}
  | {type: 'env'; envVar: string}
  | {type: 'passphrase'; kdf: 'argon2id13'; salt: string; opsLimit: number; memLimit: number}
  | {type: 'recipients'; recipients: RecipientEntry[]; link?: KekLink}

export interface KeyProvider {
  readonly type: KeyProviderType
  /** Where the key lives, for status and errors (a path or a variable name; never key material). */
  readonly location: string | undefined
  /** The current KEK. Throws `vault_locked` or `vault_unavailable` when it cannot be had. */
  loadKek(): Promise<Uint8Array>
  /** A KEK staged by an interrupted rotate-master, if this provider can keep one. */
  loadPendingKek(): Promise<Uint8Array | undefined>
  /** Keep the next KEK durably before any record is re-wrapped under it. */
  stagePendingKek(key: Uint8Array): Promise<void>
  /** Make the staged KEK the current one (last step of rotate-master). */
  commitPendingKek(): Promise<void>
  /**
   * vault.yaml's settings for a new KEK, for providers that keep the KEK in vault.yaml itself
   * (recipients: the new KEK sealed to each member). Absent: the settings do not change.
   */
  settingsFor?(key: Uint8Array): Promise<KeyProviderSettings>
  /**
   * Check that vault.yaml's KEK (`current`, its MAC verified) follows from the one this machine
   * last opened (recipients: kek-chain.ts); `vault_tampered` when it does not.
   */
  followKeyChain?(config: {vaultId: string; keyProvider: KeyProviderSettings}, current: Kek, paths: VaultPaths): Promise<void>
}
