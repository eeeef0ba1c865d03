import * as path from 'node:path'

import {AivaultError} from '../errors'
import type {RunMode} from '../run-mode'
import {ONE_SHOT} from '../run-mode'
import {writeFileAtomic} from './store/atomic-file'
import {AuditLog} from './audit/audit'
import type {VaultConfig} from './config'
import {readVaultConfig} from './config'
import {CredentialStore} from './store/credential-store'
import {EnvKeyProvider} from './keys/key-providers/env'
import {FileKeyProvider} from './keys/key-providers/file'
import {heldKeyProvider} from './keys/key-providers/held'
import {PassphraseKeyProvider} from './keys/key-providers/passphrase'
import {RecipientsKeyProvider} from './keys/key-providers/recipients'
import {identityPath} from './keys/identity'
import type {KeyProvider} from './keys/key-providers/types'
import type {Keyring} from './keys/keyring'
import {loadKeyring} from './keys/keyring'
import {withFileLock} from './store/lock'
import type {VaultPaths} from './store/paths'
import {defaultKeyFile, resolveVaultPaths} from './store/paths'
import type {Binding, CapabilityPolicy, CustomCapability} from './store/broker-records'
import {
  parseBinding,
  parseCustomCapability,
  parsePolicy,
  serializeBinding,
  serializeCustomCapability,
  serializePolicy,
} from './store/broker-records'
import {statStamp} from './store/record-folder'
import type {SecretScope} from './scope'
import type {SealedValue} from './keys/seal'
import {associatedData, sealValue} from './keys/seal'
import {RecordStore} from './store/record-store'
import type {SecretRecord} from './store/secret-record'
import {SecretStore} from './store/secret-store'
import {ensureVaultDir, readVaultFile} from './store/vault-file'

const tamperedWhileUnlocked = (): AivaultError =>
  new AivaultError('vault_tampered', 'vault.yaml changed while the vault was unlocked and its security settings no longer match their MAC; the vault was locked', {
    hint: 'restore vault.yaml from git or a backup, then run "aivault unlock" again',
  })

/**
 * Seals for a process that holds no key (a passphrase vault unlocked in aivaultd): the
 * plaintext goes to whoever holds the key, and only the sealed value comes back. Given to
 * the vault when it is made (the CLI's sealingVault), never set afterwards.
 */
export interface RemoteSealer {
  seal(request: {secretId: string; scope: SecretScope; pinnedProvider: string | null; tenantHost?: string; plaintext: Uint8Array}): Promise<SealedValue>
  /** `nonce` names the sealed value the caller holds: the daemon refuses a record that changed meanwhile. */
  sealForTenant(request: {secretId: string; nonce: string; tenantHost: string}): Promise<SealedValue>
}

export interface VaultOptions {
  /** One-shot CLI (the default) or long-lived server (aivaultd, serve). */
  mode?: RunMode
  remoteSealer?: RemoteSealer
}

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
  /**
   * A passphrase vault's keys held in memory by aivaultd until `lock` or the TTL, with the
   * vault.yaml they were verified against: a changed file is verified again before use.
   */
  private unlocked?: {keyring: Keyring; expiresAt: number; config: VaultConfig}
  /** A re-verification of a changed vault.yaml under the held key, shared by concurrent calls. */
  private reverifying?: {config: VaultConfig; keyring: Promise<Keyring>}
  /** The vault.yaml (stat stamp) whose MAC failed under the held key: vault_tampered until it changes. */
  private tamperedStamp?: string

  /** How this process runs (one-shot CLI or long-lived server): given to the stores and the audit log. */
  readonly mode: RunMode
  private readonly remoteSealer?: RemoteSealer

  constructor(
    readonly paths: VaultPaths,
    readonly env: NodeJS.ProcessEnv = process.env,
    options: VaultOptions = {},
  ) {
    this.mode = options.mode ?? ONE_SHOT
    this.remoteSealer = options.remoteSealer
    const {listingReuseMs} = this.mode
    this.secrets = new SecretStore(paths, listingReuseMs)
    this.credentials = new CredentialStore(paths, listingReuseMs)
    this.capabilities = new RecordStore(paths.capabilitiesDir, 'capabilities', parseCustomCapability, serializeCustomCapability, {listingReuseMs})
    this.policies = new RecordStore(paths.policiesDir, 'policies', parsePolicy, serializePolicy, {listingReuseMs})
    this.bindings = new RecordStore(paths.bindingsDir, 'bindings', parseBinding, serializeBinding, {listingReuseMs})
    this.audit = new AuditLog(paths.auditDir, path.join(paths.runDir, 'audit.lock'), {
      disabled: env.AIVAULT_DISABLE_DISK_LOGS === '1',
      groupIntervalMs: this.mode.auditGroupMs,
    })
  }

  static fromEnv(env: NodeJS.ProcessEnv = process.env, options: VaultOptions = {}): Vault {
    return new Vault(resolveVaultPaths(env), env, options)
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

  /** The file that holds this process's key: a `file` vault's key file, or a recipients vault's identity. */
  keyFilePath(config = this.config()): string | undefined {
    const settings = config.keyProvider
    if (settings.type === 'recipients') return identityPath(this.env)
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
      case 'recipients':
        return new RecipientsKeyProvider(settings, identityPath(this.env))
    }
  }

  /** The KEKs, loaded once per process; vault.yaml's MAC is verified on the way. */
  keyring(): Promise<Keyring> {
    const config = this.config()
    if (this.unlocked) {
      const unlocked = this.unlockedKeyring(config)
      if (unlocked) return Promise.resolve(unlocked)
      if (Date.now() < this.unlocked.expiresAt) return this.reverifyUnlocked(config)
      this.unlocked = undefined
    }
    if (this.tamperedStamp !== undefined) {
      if (this.tamperedStamp === this.cachedConfigStamp) return Promise.reject(tamperedWhileUnlocked())
      this.tamperedStamp = undefined
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
    // config() notices a changed vault.yaml (from the stat cache), which drops keys not yet verified against it.
    const config = this.config()
    if (this.unlocked) return this.unlockedKeyring(config)
    return this.loaded && this.loaded.from === this.cachedKeyring ? this.loaded.keyring : undefined
  }

  /** The keyring held since `unlock`, while it has not expired and vault.yaml is the one it was verified against. */
  private unlockedKeyring(config: VaultConfig): Keyring | undefined {
    const unlocked = this.unlocked
    return unlocked && unlocked.config === config && Date.now() < unlocked.expiresAt ? unlocked.keyring : undefined
  }

  /**
   * vault.yaml changed while a passphrase vault is unlocked (SPEC §2 hardened): verify its MAC
   * under the held key before the key serves anything. A mismatch locks the vault, and every
   * call fails with vault_tampered until the file changes again (then the vault must be
   * unlocked again). A vault re-keyed by rotate-master is locked again, as its key changed.
   */
  private reverifyUnlocked(config: VaultConfig): Promise<Keyring> {
    if (this.reverifying?.config === config) return this.reverifying.keyring
    const unlocked = this.unlocked as NonNullable<Vault['unlocked']>
    const stamp = this.cachedConfigStamp
    const keyring = loadKeyring(config, heldKeyProvider(unlocked.keyring.current.key), this.paths).then(
      (verified) => {
        if (this.unlocked === unlocked) this.unlocked = {keyring: verified, expiresAt: unlocked.expiresAt, config}
        return verified
      },
      (error: unknown) => {
        if (this.unlocked === unlocked) this.unlocked = undefined
        if (!(error instanceof AivaultError && error.code === 'vault_tampered')) return this.keyring()
        this.cachedKeyring = undefined
        this.tamperedStamp = stamp
        void this.audit.append('vault.lock', {via: 'aivaultd', reason: 'vault_tampered'}).catch(() => {})
        throw tamperedWhileUnlocked()
      },
    )
    this.reverifying = {config, keyring}
    return keyring
  }

  /**
   * Seal a secret value under the current KEK. A CLI process without the key (a passphrase
   * vault unlocked in aivaultd) hands the plaintext to the daemon's `seal` op instead; the key
   * never comes back.
   */
  async sealSecretValue(secretId: string, scope: SecretScope, pinnedProvider: string | null, plaintext: Uint8Array, tenantHost?: string): Promise<SealedValue> {
    let keyring: Keyring
    try {
      keyring = await this.keyring()
    } catch (error) {
      if (!this.sealsRemotely(error)) throw error
      return this.remoteSealer!.seal({secretId, scope, pinnedProvider, tenantHost, plaintext})
    }
    return sealValue(keyring.current, plaintext, associatedData(this.config().vaultId, secretId, scope, pinnedProvider ?? undefined, tenantHost))
  }

  /**
   * Bind a per-tenant key to its tenant (SPEC §4): the record's value, opened under its current
   * metadata, sealed again with `tenantHost` in the associated data. A key already bound to
   * another tenant is refused here, so the daemon (which does this for a process without the
   * key, via its RemoteSealer) enforces it too. The caller writes the record.
   */
  async sealForTenant(record: SecretRecord, tenantHost: string): Promise<SealedValue> {
    if (record.tenantHost && record.tenantHost !== tenantHost) {
      throw new AivaultError('policy_violation', `secret ${record.name} is bound to tenant host ${record.tenantHost}, not ${tenantHost}`, {
        hint: 'a key belongs to one tenant: store the other tenant\'s key as its own secret',
      })
    }
    let keyring: Keyring
    try {
      keyring = await this.keyring()
    } catch (error) {
      if (!this.sealsRemotely(error)) throw error
      return this.remoteSealer!.sealForTenant({secretId: record.id, nonce: record.sealed.nonce, tenantHost})
    }
    const vaultId = this.config().vaultId
    const value = await this.secrets.open(record, keyring, vaultId)
    try {
      return await sealValue(keyring.current, value, associatedData(vaultId, record.id, record.scope, record.pinnedProvider ?? undefined, tenantHost))
    } finally {
      value.fill(0)
    }
  }

  /** Only a locked passphrase vault seals through aivaultd; any other provider's error is the answer. */
  private sealsRemotely(error: unknown): boolean {
    return error instanceof AivaultError && error.code === 'vault_locked' && this.remoteSealer !== undefined && this.config().keyProvider.type === 'passphrase'
  }

  /** Hold an unlocked keyring, verified against `config`, in memory (aivaultd only) until `lock()` or the TTL. */
  holdUnlocked(keyring: Keyring, ttlMs: number, config: VaultConfig): number {
    const expiresAt = Date.now() + ttlMs
    this.unlocked = {keyring, expiresAt, config}
    this.tamperedStamp = undefined
    return expiresAt
  }

  lock(): boolean {
    const was = this.unlocked !== undefined && Date.now() < this.unlocked.expiresAt
    this.unlocked = undefined
    this.reverifying = undefined
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
