import * as path from 'node:path'

import {AivaultError} from '../errors'
import type {VaultConfig} from './config'
import {signVaultConfig, VAULT_FORMAT, writeVaultConfig} from './config'
import {EnvKeyProvider} from './keys/key-providers/env'
import {FileKeyProvider} from './keys/key-providers/file'
import {derivePassphraseKek, newPassphraseSettings} from './keys/key-providers/passphrase'
import type {KeyProviderSettings, KeyProviderType} from './keys/key-providers/types'
import {defaultKeyFile} from './store/paths'
import {makeKek, randomKey} from './keys/seal'
import type {IdentityInfo} from './keys/identity'
import {publicKeyFingerprint} from './keys/identity'
import {firstRecipient} from './recipients'
import {rememberKek} from './keys/kek-chain'
import type {Vault} from './vault'

export interface InitOptions {
  provider: KeyProviderType
  filePath?: string
  envVar?: string
  passphrase?: string
  testing?: boolean
  /** The first recipient's name (recipients provider; default: the OS user name). */
  name?: string
}

export interface InitResult {
  vaultId: string
  provider: KeyProviderType
  kekId: string
  testing: boolean
  locked: boolean
  paths: {root: string; keyFile: string | null}
  /** Recipients vaults: the identity that opens it (made by init when it was missing) and the first recipient. */
  identity?: IdentityInfo & {created: boolean}
  recipients?: {name: string; fingerprint: string}[]
}

function describe(vault: Vault, config: VaultConfig): InitResult {
  return {
    vaultId: config.vaultId,
    provider: config.keyProvider.type,
    kekId: config.kekId,
    testing: config.testing,
    locked: config.keyProvider.type === 'passphrase',
    paths: {root: vault.paths.root, keyFile: vault.keyFilePath(config) ?? null},
  }
}

/**
 * Create a vault. The key is made (or read) first and vault.yaml written last, so a crash
 * leaves either no vault or a complete one. Refuses an existing vault (`conflict`).
 */
export async function initVault(vault: Vault, options: InitOptions): Promise<InitResult> {
  const refuse = () =>
    new AivaultError('conflict', `a vault already exists at ${vault.paths.root}`, {hint: 'use it as it is, or choose another folder with AIVAULT_DIR'})
  if (vault.exists()) throw refuse()
  // Keys that come from outside are checked before anything is created on disk.
  let key: Uint8Array | undefined
  let settings: KeyProviderSettings | undefined
  let identity: (IdentityInfo & {created: boolean}) | undefined
  if (options.provider === 'env') {
    const envVar = options.envVar ?? 'AIVAULT_KEY'
    settings = {type: 'env', envVar}
    key = await new EnvKeyProvider(envVar, vault.env).loadKek()
  } else if (options.provider === 'passphrase') {
    if (!options.passphrase) throw new AivaultError('invalid_request', 'a passphrase vault needs --passphrase or --passphrase-file')
    const passphraseSettings = await newPassphraseSettings()
    settings = passphraseSettings
    key = await derivePassphraseKek(options.passphrase, passphraseSettings)
  } else if (options.provider === 'recipients') {
    key = await randomKey()
    const first = await firstRecipient(vault, key, options.name)
    settings = first.settings
    identity = first.identity
  }
  return vault.withLock(async () => {
    if (vault.exists()) throw refuse()
    const vaultId = (require('node:crypto') as typeof import('node:crypto')).randomUUID()
    const extraIgnores: string[] = []
    if (options.provider === 'file') {
      const keyFile = options.filePath ? path.resolve(options.filePath) : defaultKeyFile(vault.paths, vaultId)
      const inside = path.relative(vault.paths.root, keyFile)
      if (!inside.startsWith('..') && !path.isAbsolute(inside)) extraIgnores.push('/' + inside.split(path.sep).join('/'))
      settings = options.filePath ? {type: 'file', keyFile} : {type: 'file'}
      key = await randomKey()
      try {
        new FileKeyProvider(keyFile).createKeyFile(key)
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
          throw new AivaultError('conflict', `key file ${keyFile} already exists`, {hint: 'choose another --file-path; aivault never overwrites a key'})
        }
        throw error
      }
    }
    const kek = await makeKek(key as Uint8Array)
    const config = await signVaultConfig(
      {format: VAULT_FORMAT, vaultId, createdAt: new Date().toISOString(), testing: options.testing === true, keyProvider: settings as KeyProviderSettings},
      kek,
    )
    vault.writeSkeleton(extraIgnores)
    writeVaultConfig(vault.paths, config)
    // The creator's clone trusts the key it made, whatever an earlier vault in this folder was (kek-chain.ts).
    if (identity) await rememberKek(vault.paths, vaultId, kek, identity.publicKey)
    vault.reload()
    await vault.audit.append('vault.init', {vaultId, provider: config.keyProvider.type, testing: config.testing})
    const result = describe(vault, config)
    if (config.keyProvider.type !== 'recipients' || !identity) return result
    const recipients = config.keyProvider.recipients.map((r) => ({name: r.name, fingerprint: publicKeyFingerprint(r.publicKey)}))
    for (const r of recipients) await vault.audit.append('recipient.add', {name: r.name, fingerprint: r.fingerprint, kekId: config.kekId})
    return {...result, identity, recipients}
  })
}

/** Commands that write call this: a missing vault is created with the `file` provider (SPEC §2). */
export async function ensureVault(vault: Vault): Promise<void> {
  if (vault.exists()) return
  try {
    await initVault(vault, {provider: 'file'})
  } catch (error) {
    // Another process initialized it between our check and the lock: use that vault.
    if (!(error instanceof AivaultError && error.code === 'conflict' && vault.exists())) throw error
  }
}
