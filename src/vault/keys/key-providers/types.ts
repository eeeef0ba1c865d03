/** How a vault's KEK is kept. One small interface; one file per kind (SPEC §2). */
export type KeyProviderType = 'file' | 'env' | 'passphrase'

export const KEY_PROVIDER_TYPES: readonly KeyProviderType[] = ['file', 'env', 'passphrase']

/** Key provider settings as stored in vault.yaml (never a key). */
export type KeyProviderSettings =
  | {type: 'file'; keyFile?: string}
  | {type: 'env'; envVar: string}
  | {type: 'passphrase'; kdf: 'argon2id13'; salt: string; opsLimit: number; memLimit: number}

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
}
