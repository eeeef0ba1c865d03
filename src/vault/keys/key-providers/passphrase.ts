import {AivaultError} from '../../../errors'
import {loadSodiumSumo} from '../sodium'
import type {KeyProvider, KeyProviderSettings} from './types'

type PassphraseSettings = Extract<KeyProviderSettings, {type: 'passphrase'}>

/** Argon2id parameters for new vaults: libsodium's "moderate" limits (~0.5 s, 256 MiB). */
export async function newPassphraseSettings(): Promise<PassphraseSettings> {
  const sodium = await loadSodiumSumo()
  return {
    type: 'passphrase',
    kdf: 'argon2id13',
    salt: Buffer.from(sodium.randombytes_buf(sodium.crypto_pwhash_SALTBYTES)).toString('base64'),
    opsLimit: sodium.crypto_pwhash_OPSLIMIT_MODERATE,
    memLimit: sodium.crypto_pwhash_MEMLIMIT_MODERATE,
  }
}

export async function derivePassphraseKek(passphrase: string, settings: PassphraseSettings): Promise<Uint8Array> {
  if (passphrase.length === 0) throw new AivaultError('invalid_request', 'the passphrase is empty')
  const sodium = await loadSodiumSumo()
  return sodium.crypto_pwhash(
    32,
    Buffer.from(passphrase, 'utf8'),
    new Uint8Array(Buffer.from(settings.salt, 'base64')),
    settings.opsLimit,
    settings.memLimit,
    sodium.crypto_pwhash_ALG_ARGON2ID13,
  )
}

/**
 * The KEK is derived from a passphrase with Argon2id. A process holds it only when it was
 * given the passphrase; other processes get `vault_locked` (cross-process unlock is the
 * daemon's job). Re-keying a passphrase vault happens through the daemon as well.
 */
export class PassphraseKeyProvider implements KeyProvider {
  readonly type = 'passphrase' as const
  readonly location = undefined

  constructor(
    private readonly settings: PassphraseSettings,
    private readonly passphrase?: string,
  ) {}

  async loadKek(): Promise<Uint8Array> {
    if (this.passphrase === undefined) {
      throw new AivaultError('vault_locked', 'this passphrase vault is locked', {hint: 'run "aivault unlock" first'})
    }
    return derivePassphraseKek(this.passphrase, this.settings)
  }

  async loadPendingKek(): Promise<undefined> {
    return undefined
  }

  async stagePendingKek(): Promise<void> {
    throw new AivaultError('invalid_request', 'rotate-master of a passphrase vault needs the unlocked vault in aivaultd')
  }

  async commitPendingKek(): Promise<void> {}
}
