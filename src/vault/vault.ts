import * as path from 'node:path'

import {AivaultError} from '../errors'
import {writeFileAtomic} from './atomic-file'
import {AuditLog} from './audit'
import type {VaultConfig} from './config'
import {readVaultConfig} from './config'
import {CredentialStore} from './credential-store'
import {EnvKeyProvider} from './key-providers/env'
import {FileKeyProvider} from './key-providers/file'
import {PassphraseKeyProvider} from './key-providers/passphrase'
import type {KeyProvider} from './key-providers/types'
import type {Keyring} from './keyring'
import {loadKeyring} from './keyring'
import {withFileLock} from './lock'
import type {VaultPaths} from './paths'
import {defaultKeyFile, resolveVaultPaths} from './paths'
import type {Binding, CapabilityPolicy, CustomCapability} from './broker-records'
import {
  parseBinding,
  parseCustomCapability,
  parsePolicy,
  serializeBinding,
  serializeCustomCapability,
  serializePolicy,
} from './broker-records'
import {statStamp} from './record-folder'
import type {SecretScope} from './scope'
import type {SealedValue} from './seal'
import {associatedData, sealValue} from './seal'
import {RecordStore} from './record-store'
import {SecretStore} from './secret-store'
import {ensureVaultDir, readVaultFile} from './vault-file'

/**
 * One vault folder: its paths, config, record stores, keys and audit log. Nothing here is
 * read until asked for, so a command pays only for what it uses.
 */
export class Vault {
  readonly secrets: SecretStore
  readonly credentials: CredentialStore
  readonly audit: AuditLog
  readonly capabilities: RecordStore<CustomCapability>
  readonly policies: RecordStore<CapabilityPolicy>
  readonly bindings: RecordStore<Binding>
  private cachedConfig?: VaultConfig
  private cachedConfigStamp?: string
  private cachedKeyring?: Promise<Keyring>
  /** A passphrase vault's keys held in memory by aivaultd until `lock` or the TTL. */
  private unlocked?: {keyring: Keyring; expiresAt: number}

  constructor(
    readonly paths: VaultPaths,
    readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    this.secrets = new SecretStore(paths)
    this.credentials = new CredentialStore(paths)
    this.capabilities = new RecordStore(paths.capabilitiesDir, 'capabilities', parseCustomCapability, serializeCustomCapability)
    this.policies = new RecordStore(paths.policiesDir, 'policies', parsePolicy, serializePolicy)
    this.bindings = new RecordStore(paths.bindingsDir, 'bindings', parseBinding, serializeBinding)
    this.audit = new AuditLog(paths.auditDir, path.join(paths.runDir, 'audit.lock'), env.AIVAULT_DISABLE_DISK_LOGS === '1')
  }

  static fromEnv(env: NodeJS.ProcessEnv = process.env): Vault {
    return new Vault(resolveVaultPaths(env), env)
  }

  exists(): boolean {
    return statStamp(this.paths.vaultFile) !== undefined
  }

  config(): VaultConfig {
    // A long-lived process (aivaultd) notices vault.yaml changing on disk (rotate-master, git pull).
    const stamp = statStamp(this.paths.vaultFile)
    if (this.cachedConfig && stamp !== this.cachedConfigStamp) {
      this.cachedConfig = undefined
      this.cachedKeyring = undefined
    }
    if (!this.cachedConfig) {
      this.cachedConfigStamp = stamp
      const config = readVaultConfig(this.paths)
      if (!config) {
        throw new AivaultError('vault_unavailable', `no vault at ${this.paths.root}`, {hint: 'run "aivault init" or set AIVAULT_DIR'})
      }
      this.cachedConfig = config
    }
    return this.cachedConfig
  }

  /** Forget cached config and keys, after this process changed them (init, rotate-master). */
  reload(): void {
    this.cachedConfig = undefined
    this.cachedKeyring = undefined
  }

  keyFilePath(config = this.config()): string | undefined {
    const settings = config.keyProvider
    if (settings.type !== 'file') return undefined
    return settings.keyFile ?? defaultKeyFile(this.paths, config.vaultId)
  }

  keyProvider(config = this.config()): KeyProvider {
    const settings = config.keyProvider
    switch (settings.type) {
      case 'file':
        return new FileKeyProvider(this.keyFilePath(config) as string)
      case 'env':
        return new EnvKeyProvider(settings.envVar, this.env)
      case 'passphrase':
        return new PassphraseKeyProvider(settings)
    }
  }

  /** The KEKs, loaded once per process; vault.yaml's MAC is verified on the way. */
  keyring(): Promise<Keyring> {
    const config = this.config()
    if (this.unlocked) {
      const unlocked = this.unlockedKeyring(config)
      if (unlocked) return Promise.resolve(unlocked)
      this.unlocked = undefined // expired, or the vault was re-keyed under us
    }
    if (!this.cachedKeyring) {
      const loading = loadKeyring(config, this.keyProvider(config), this.paths)
      this.cachedKeyring = loading
      loading.then((keyring) => (this.loaded = {from: loading, keyring})).catch(() => {})
    }
    return this.cachedKeyring
  }

  /** The keyring a load resolved to, valid while that load is still the cached one. */
  private loaded?: {from: Promise<Keyring>; keyring: Keyring}

  /**
   * The keyring keyring() would answer with, when it is already in memory (no key to load, no
   * passphrase to ask for, no promise): a long-lived process checks this on every call.
   */
  heldKeyring(): Keyring | undefined {
    if (this.unlocked) return this.unlockedKeyring(this.config())
    return this.loaded && this.loaded.from === this.cachedKeyring ? this.loaded.keyring : undefined
  }

  /** The keyring held since `unlock`, while it has not expired and still opens the current KEK. */
  private unlockedKeyring(config: VaultConfig): Keyring | undefined {
    const unlocked = this.unlocked
    return unlocked && Date.now() < unlocked.expiresAt && unlocked.keyring.current.id === config.kekId ? unlocked.keyring : undefined
  }

  /**
   * Seal a secret value under the current KEK. A CLI process without the key (a passphrase
   * vault unlocked in aivaultd) hands the plaintext to the daemon's `seal` op instead; the key
   * never comes back.
   */
  async sealSecretValue(secretId: string, scope: SecretScope, pinnedProvider: string | null, plaintext: Uint8Array): Promise<SealedValue> {
    let keyring: Keyring
    try {
      keyring = await this.keyring()
    } catch (error) {
      if (!(error instanceof AivaultError && error.code === 'vault_locked' && this.remoteSealer)) throw error
      return this.remoteSealer({secretId, scope, pinnedProvider, plaintext})
    }
    return sealValue(keyring.current, plaintext, associatedData(this.config().vaultId, secretId, scope, pinnedProvider ?? undefined))
  }

  remoteSealer?: (request: {secretId: string; scope: SecretScope; pinnedProvider: string | null; plaintext: Uint8Array}) => Promise<SealedValue>

  /** Hold an unlocked keyring in memory (aivaultd only) until `lock()` or the TTL. */
  holdUnlocked(keyring: Keyring, ttlMs: number): number {
    const expiresAt = Date.now() + ttlMs
    this.unlocked = {keyring, expiresAt}
    return expiresAt
  }

  lock(): boolean {
    const was = this.unlocked !== undefined && Date.now() < this.unlocked.expiresAt
    this.unlocked = undefined
    this.cachedKeyring = undefined
    return was
  }

  /** When the in-memory unlock ends, or null when this process holds none. */
  unlockedUntil(): number | null {
    return this.unlocked && Date.now() < this.unlocked.expiresAt ? this.unlocked.expiresAt : null
  }

  /** Multi-record operations hold the vault lock (run/lock). */
  withLock<T>(work: () => Promise<T> | T): Promise<T> {
    return withFileLock(this.paths.lockFile, work, this.paths.root)
  }

  /** Create the folder skeleton and the .gitignore that keeps machine-local state out of git. */
  writeSkeleton(extraIgnores: string[] = []): void {
    for (const dir of [this.paths.root, this.paths.secretsDir, this.paths.credentialsDir, this.paths.runDir, this.paths.auditDir]) ensureVaultDir(this.paths.root, dir)
    const lines = ['# machine-local state, written by aivault init', 'run/', 'audit/', '*.tmp', ...extraIgnores]
    const wanted = lines.join('\n') + '\n'
    if (readVaultFile(this.paths.gitignore, '.gitignore') !== wanted) writeFileAtomic(this.paths.gitignore, wanted)
  }
}
